/**
 * The process driver's regions as network namespaces (root with iproute2): a real gateway in
 * one region answers at its region's address and at its published host port; regions do not
 * reach each other except through a latency link; gateways of two regions, each reaching its
 * Redis and the other region through links, replicate; destroyAll leaves no namespace or veth.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCheck } from '../../machines/checks.js';
import { netnsUnavailable, ProcessDriver } from '../../machines/drivers/process/index.js';
import type { LaunchSpec } from '../../machines/drivers/types.js';
import { ERNE_JS, freePort } from '../helpers/child.js';
import { REGION, ROOT, s3Client, tempDir } from '../helpers/gateway.js';
import { testLaunchSpec } from '../helpers/machines.js';
import { CLUSTER_SECRET } from '../helpers/cluster.js';
import { startRedis, redisServer, type TestRedis } from '../helpers/redis.js';
import { describeNeeds, itNeeds, need } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const NODE = process.execPath;
const PREFIX = `et${process.pid}-`;

function ipOut(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

describeNeeds(need(netnsUnavailable()))('process driver: regions as network namespaces', () => {
  let root: string;
  let driver: ProcessDriver;
  // made in beforeAll: a skipped block still runs its body, and netns mode throws without root
  beforeAll(() => {
    root = tempDir('erne-procnet-');
    driver = new ProcessDriver({ root, network: 'netns', netnsPrefix: PREFIX });
  });
  const spec = (machineId: string, region: string, argv: string[], extra: Partial<LaunchSpec> = {}): LaunchSpec =>
    testLaunchSpec(driver, root, { machineId, instanceId: 'i-1', region, argv }, extra);

  const output = async (id: string) => {
    const lines: string[] = [];
    for await (const l of driver.logs(id)) lines.push(l);
    return lines.filter((l) => / out /.test(l)).join('\n');
  };
  /** a machine that fetches TARGET once and prints what happened */
  const probe = (id: string, target: string) =>
    spec(id, 'iad', [NODE, '-e', `fetch(process.env.TARGET, { signal: AbortSignal.timeout(3000) }).then((r) => r.text()).then((b) => console.log('got ' + b), (e) => console.log('failed ' + (e.cause?.code ?? e.message)))`], { env: { TARGET: target } });

  afterAll(async () => {
    await driver.destroyAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('a gateway runs inside its region, reached at the region address and at its published port', async () => {
    const hostPort = await freePort();
    const s = spec('gw-iad', 'iad', [NODE, ERNE_JS, 'serve', '--host', '0.0.0.0', '--port', '9000', '--data-dir', '.', '--region', REGION], {
      env: { ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId, ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey },
      ports: [{ internal: 9000, host: hostPort, protocol: 'tcp' }],
    });
    await driver.start(s);
    const place = await driver.placement('iad');
    const st = await driver.status(s.machineId);
    expect(st).toMatchObject({ state: 'running', detail: { network: 'netns', netns: `${PREFIX}iad`, address: place.machineHost } });
    expect(ipOut(['netns', 'pids', `${PREFIX}iad`]).split('\n')).toContain(String(st.pid));
    expect(await driver.address(s.machineId)).toBe(place.machineHost);
    expect(st.detail?.published).toBe(`127.0.0.1:${hostPort}->9000`);

    const check = { type: 'http' as const, port: 9000, path: '/.erne/health', timeout: '1s' };
    await waitFor('the health check at the region address', async () => (await runCheck(check, { host: place.machineHost })).status === 'passing');
    expect((await runCheck(check, { host: '127.0.0.1', port: hostPort })).status).toBe('passing');
    // the program's port is not on the host's own loopback: it lives in the region
    expect((await runCheck(check, { host: '127.0.0.1' })).status).toBe('failing');

    const s3 = s3Client({ url: `http://127.0.0.1:${hostPort}` });
    await s3.send(new CreateBucketCommand({ Bucket: 'netns-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'netns-bucket', Key: 'k', Body: 'in iad' }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket: 'netns-bucket', Key: 'k' }))).Body!.transformToString()).toBe('in iad');
    s3.destroy();
  });

  it('regions reach each other only through a link', async () => {
    const fra = spec('web-fra', 'fra', [NODE, '-e', `require('http').createServer((q, s) => s.end('hello from ' + process.env.FLY_REGION)).listen(8080, '0.0.0.0')`]);
    await driver.start(fra);
    const fraHost = (await driver.placement('fra')).machineHost;
    expect(fraHost).not.toBe((await driver.placement('iad')).machineHost);
    await waitFor('the fra server', async () => (await runCheck({ type: 'tcp', port: 8080 }, { host: fraHost })).status === 'passing');

    const direct = probe('probe-direct', `http://${fraHost}:8080/`);
    await driver.start(direct);
    await waitFor('the direct probe to end', async () => (await driver.status(direct.machineId)).state === 'exited');
    expect(await output(direct.machineId)).toMatch(/ out failed /);

    const link = await driver.link('iad-fra', 'iad', { host: fraHost, port: 8080 }, 20);
    const linked = probe('probe-link', `${link.url}/`);
    await driver.start(linked);
    await waitFor('the linked probe to end', async () => (await driver.status(linked.machineId)).state === 'exited');
    expect(await output(linked.machineId)).toMatch(/ out got hello from fra$/);

    // the link is a process of its own: killed, it comes back on its old port, where machines look for it
    const [running] = driver.links.list();
    expect(running).toMatchObject({ name: 'iad-fra', from: 'iad', url: link.url, running: true });
    await driver.links.close('iad-fra');
    expect(driver.links.list()).toEqual([]);
    const again = await driver.link('iad-fra', 'iad', { host: fraHost, port: 8080 }, 20, { port: link.port });
    expect(again.url).toBe(link.url);
    const relinked = probe('probe-relink', `${again.url}/`);
    await driver.start(relinked);
    await waitFor('the relinked probe to end', async () => (await driver.status(relinked.machineId)).state === 'exited');
    expect(await output(relinked.machineId)).toMatch(/ out got hello from fra$/);
  });

  itNeeds(redisServer)('gateways in two regions replicate through links (Redis reached through a link too)', async () => {
    const regions = ['iad', 'fra'];
    // a region is one address: the first test's gateway still holds 9000 in iad
    const GW = 9100;
    const redis: TestRedis[] = [];
    try {
      const addr: Record<string, string> = {};
      for (const r of regions) addr[r] = (await driver.placement(r)).machineHost;
      const published: Record<string, number> = {};
      for (const [i, r] of regions.entries()) {
        const red = await startRedis();
        redis.push(red);
        const redisLink = await driver.link(`redis-${r}`, r, { host: '127.0.0.1', port: red.port }, 0);
        const other = regions.find((o) => o !== r)!;
        const peer = await driver.link(`${r}-to-${other}`, r, { host: addr[other]!, port: GW }, 10);
        const clusterFile = join(root, `cluster-${r}.json`);
        // each region names the other by the link from itself to it
        writeFileSync(clusterFile, JSON.stringify({ control: 'iad', regions: regions.map((n) => ({ name: n, internal: [n === r ? `http://${addr[r]}:${GW}` : peer.url] })) }));
        published[r] = await freePort();
        await driver.start(
          spec(`gw-repl-${r}`, r, [NODE, ERNE_JS, 'serve', '--host', '0.0.0.0', '--port', String(GW), '--data-dir', '.', '--region', r, '--cluster', clusterFile, '--redis-url', `redis://${redisLink.host}:${redisLink.port}`], {
            instanceId: `i-${i}`,
            env: { ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId, ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey, ERNE_CLUSTER_SECRET: CLUSTER_SECRET },
            ports: [{ internal: GW, host: published[r]!, protocol: 'tcp' }],
          }),
        );
      }
      for (const r of regions) {
        await waitFor(`the ${r} gateway`, async () => (await runCheck({ type: 'http', port: GW, path: '/.erne/health' }, { host: addr[r]! })).status === 'passing', 30_000);
      }
      for (const r of regions) expect((await driver.status(`gw-repl-${r}`)).state).toBe('running');
      const iad = s3Client({ url: `http://127.0.0.1:${published.iad}` });
      const fra = s3Client({ url: `http://127.0.0.1:${published.fra}` });
      try {
        await iad.send(new CreateBucketCommand({ Bucket: 'across-regions' }));
        await iad.send(new PutObjectCommand({ Bucket: 'across-regions', Key: 'k', Body: 'written in iad' }));
        const read = async () => (await fra.send(new GetObjectCommand({ Bucket: 'across-regions', Key: 'k' }))).Body!.transformToString();
        expect(await waitFor('the object to be readable in fra', () => read().catch(() => undefined), 30_000)).toBe('written in iad');
      } finally {
        iad.destroy();
        fra.destroy();
      }
      for (const r of regions) await driver.destroy(`gw-repl-${r}`);
    } finally {
      for (const r of redis) await r.stop();
    }
  });

  it('destroyAll removes every machine, namespace and veth it made', async () => {
    const made = Object.values(driver.network.regions());
    expect(made.sort()).toEqual([`${PREFIX}fra`, `${PREFIX}iad`]);
    await driver.destroyAll();
    expect(ipOut(['netns', 'list'])).not.toContain(PREFIX);
    expect(await driver.list()).toEqual([]);
    expect(driver.network.regions()).toEqual({});
  });
});
