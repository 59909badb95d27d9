/**
 * `erne machines scale` under the process driver with a network namespace per region (root
 * with iproute2): the gateways scale makes (a cluster file of 127.0.0.1 URLs, the host's
 * Redis URLs) run inside their regions with the region's own view of the cluster, so an
 * object put through iad's gateway (its published port on the host) is read through fra's.
 * Destroying the machines leaves no namespace, veth, link or gateway process behind. `erne dev
 * --driver process --network netns` runs its regions the same way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Machine } from '../../machines/api/types.js';
import { netnsUnavailable } from '../../machines/drivers/process/index.js';
import { erneCli, freePort, pidAlive as alive } from '../helpers/child.js';
import { CLUSTER_SECRET } from '../helpers/cluster.js';
import { ROOT, tempDir } from '../helpers/gateway.js';
import { MACHINES_TOKEN, startTestMachines, type TestMachines } from '../helpers/machines.js';
import { redisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { startErneDev } from '../helpers/erne-dev.js';
import { allOf, describeNeeds, need } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const REGIONS = ['iad', 'fra'];
const PREFIX = `es${process.pid}-`;
let t: TestMachines | undefined;
let confDir: string;
let clusterFile: string;
const redis = new Map<string, TestRedis>();

const ip = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const portOf = (m: Machine) => m.config.services![0]!.internal_port;

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/.erne/health`, { signal: AbortSignal.timeout(1500) })).ok;
  } catch {
    return false;
  }
}

describeNeeds(allOf(need(netnsUnavailable()), redisServer))('erne machines scale with a network namespace per region', () => {
  beforeAll(async () => {
    confDir = tempDir('erne-scale-netns-');
    clusterFile = join(confDir, 'cluster.json');
    const ports: Record<string, number> = {};
    for (const r of REGIONS) {
      redis.set(r, await startRedis());
      ports[r] = await freePort();
    }
    // as an operator writes it on the host: every gateway at 127.0.0.1
    writeFileSync(clusterFile, JSON.stringify({ control: 'iad', regions: REGIONS.map((r) => ({ name: r, internal: [`http://127.0.0.1:${ports[r]}`] })) }));
    t = await startTestMachines({ driver: { network: 'netns', netnsPrefix: PREFIX, latencyMs: 5 } });
  });

  afterAll(async () => {
    await t?.stop();
    for (const r of redis.values()) await r.stop();
    rmSync(confDir, { recursive: true, force: true });
  });

  it('scale --count 1 --region iad,fra: a put through iad is read through fra; then nothing is left', async () => {
    const env = {
      ERNE_MACHINES_TOKEN: MACHINES_TOKEN,
      ERNE_MACHINES_ENDPOINT: t!.url,
      ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId,
      ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey,
      ERNE_CLUSTER_SECRET: CLUSTER_SECRET,
    };
    const redisUrls = REGIONS.map((r) => `${r}=${redis.get(r)!.url}`).join(',');
    const made = JSON.parse(await erneCli(['machines', 'scale', '--count', '1', '--region', 'iad,fra', '--cluster', clusterFile, '--redis-url', redisUrls, '--json'], env)) as { created: string[] };
    expect(made.created).toHaveLength(2);

    const ms = (await waitFor(
      'both gateways started, their checks passing, answering at their published ports',
      async () => {
        const all = (await t!.client.list('erne')).filter((m) => m.state !== 'destroyed');
        if (all.length !== 2 || !all.every((m) => m.state === 'started' && m.checks.some((c) => c.status === 'passing'))) return undefined;
        for (const m of all) if (!(await healthy(portOf(m)))) return undefined;
        return all;
      },
      90_000,
      200,
    ))!;
    const by = (r: string) => ms.find((m) => m.region === r)!;

    // each runs inside its own region, with that region's view of the cluster
    for (const r of REGIONS) {
      const m = by(r);
      expect(m.erne?.detail).toMatchObject({ network: 'netns', netns: `${PREFIX}${r}` });
      expect(ip(['netns', 'pids', `${PREFIX}${r}`]).split('\n')).toContain(String(m.erne!.pid));
      const view = JSON.parse(readFileSync(m.erne!.detail!['cluster_view']!, 'utf8')) as { regions: { name: string; internal: string[] }[] };
      const other = REGIONS.find((o) => o !== r)!;
      // its own region as written; the other through a link on the host side of its veth
      expect(view.regions.find((x) => x.name === r)!.internal).toEqual([`http://127.0.0.1:${portOf(m)}`]);
      expect(view.regions.find((x) => x.name === other)!.internal[0]).toMatch(/^http:\/\/10\.77\.\d+\.1:\d+$/);
    }
    // the gateways' ports are not on the host's loopback but in their regions (reached through the published forward)
    expect(by('iad').erne?.detail?.['published']).toBe(`127.0.0.1:${portOf(by('iad'))}->${portOf(by('iad'))}`);

    const s3 = (m: Machine) => new S3Client({ endpoint: `http://127.0.0.1:${portOf(m)}`, region: m.region, forcePathStyle: true, credentials: ROOT, maxAttempts: 1 });
    const iad = s3(by('iad'));
    const fra = s3(by('fra'));
    const bucket = `netns-${process.pid}`;
    try {
      await iad.send(new CreateBucketCommand({ Bucket: bucket }));
      await iad.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'put in iad' }));
      const read = async () => (await fra.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }))).Body!.transformToString();
      expect(await waitFor('hello.txt through fra', () => read().catch(() => undefined), 60_000)).toBe('put in iad');
    } finally {
      iad.destroy();
      fra.destroy();
    }

    // cleanup: what was made is gone
    const network = JSON.parse(readFileSync(join(t!.dataDir, 'driver', 'network.json'), 'utf8')) as { regions: Record<string, { hostIf: string }> };
    const veths = Object.values(network.regions).map((r) => r.hostIf);
    expect(veths).toHaveLength(2);
    const linkNames = t!.driver.links.list().map((l) => l.name);
    // each region: a link to the other region and one to its Redis
    expect(linkNames).toHaveLength(4);
    const linkPids = linkNames.map((n) => (JSON.parse(readFileSync(join(t!.dataDir, 'driver', 'links', `${n}.json`), 'utf8')) as { proc: { pid: number } }).proc.pid);
    const gatewayPids = ms.map((m) => m.erne!.pid!);
    // an operator destroys the machines: the last one of a region takes its links, namespace and veth along
    for (const m of ms) await erneCli(['machines', 'destroy', m.id, '--force'], env);
    expect(ip(['netns', 'list'])).not.toContain(PREFIX);
    const links = ip(['-o', 'link', 'show']);
    for (const v of veths) expect(links).not.toMatch(new RegExp(`\\b${v}[@:]`));
    for (const pid of [...gatewayPids, ...linkPids]) expect(alive(pid)).toBe(false);
    expect(t!.driver.links.list()).toEqual([]);
    const dataDir = t!.dataDir;
    await t!.stop();
    t = undefined;
    expect(existsSync(dataDir)).toBe(false);
  }, 180_000);
});

describeNeeds(allOf(need(netnsUnavailable()), redisServer))('erne dev --driver process --network netns', () => {
  it('runs each region in its namespace; a put through iad is read through fra; stopping leaves no namespace', async () => {
    const dataDir = tempDir('erne-dev-netns-');
    const dev = await startErneDev(['--regions', 'iad,fra', '--driver', 'process', '--network', 'netns', '--latency', '5ms', '--data-dir', dataDir]);
    try {
      const [iadR, fraR] = dev.summary.regions;
      // erne dev's namespaces carry the driver's default prefix
      for (const r of [iadR!, fraR!]) expect(ip(['netns', 'pids', `erne-${r.name}`]).split('\n')).toContain(String(r.gatewayPid));
      const iad = dev.client(iadR!);
      const fra = dev.client(fraR!);
      try {
        await iad.send(new CreateBucketCommand({ Bucket: 'dev-netns' }));
        await iad.send(new PutObjectCommand({ Bucket: 'dev-netns', Key: 'k', Body: 'dev in iad' }));
        const read = async () => (await fra.send(new GetObjectCommand({ Bucket: 'dev-netns', Key: 'k' }))).Body!.transformToString();
        expect(await waitFor('k through fra', () => read().catch(() => undefined), 60_000)).toBe('dev in iad');
      } finally {
        iad.destroy();
        fra.destroy();
      }
      expect(await dev.stop()).toBe(0);
      const left = ip(['netns', 'list']).split('\n').map((l) => l.split(' ')[0]);
      expect(left).not.toContain('erne-iad');
      expect(left).not.toContain('erne-fra');
      for (const r of [iadR!, fraR!]) expect(alive(r.gatewayPid!)).toBe(false);
    } finally {
      await dev.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
