/**
 * A cluster of real region processes for fault tests: per region a `redis-server` and a
 * gateway (`node dist/cli/erne.js serve --region R --cluster FILE --redis-url URL`, the
 * cluster secret in ERNE_CLUSTER_SECRET, one root key), driven by @aws-sdk/client-s3.
 * `npm run build` first.
 *
 * Regions reach each other only through proxies of the test's own, one per ordered pair
 * (each region's cluster file names, for every other region, the proxy from itself to it),
 * so a region can be cut off both ways — what it sends and what is sent to it dropped — while
 * its S3 endpoint keeps taking writes. Each region's gateway and redis-server can be SIGKILLed and
 * started again (the gateway on its own data, Redis empty).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { Outbox } from '../../metadata/outbox.js';
import { answers, ERNE_JS, freePort } from './child.js';
import { CLUSTER_SECRET } from './cluster.js';
import { startCutProxy, type CutProxy } from './cut-proxy.js';
import { ROOT, tempDir } from './gateway.js';
import { startRedis, type TestRedis } from './redis.js';

export interface ProcRegion {
  name: string;
  /** the S3 endpoint (and, behind the proxies, the internal one) */
  url: string;
  port: number;
  dataDir: string;
  /** holds its cluster file */
  confDir: string;
  redis: TestRedis;
  /** a client of this region's S3 endpoint (root key, one try, no kept-alive connections) */
  s3: S3Client;
  /** outbox entries still waiting for some other region (read from the region's LMDB, which several processes may open) */
  outboxDepth(): Promise<number>;
  /** the current gateway process's pid */
  pid(): number | undefined;
  /** every line the gateway processes wrote, restarts included */
  output(): string;
  /** SIGKILL the gateway and wait for it to be gone */
  killGateway(): Promise<void>;
  /** start the gateway again on the same port and data; resolves once it serves */
  startGateway(): Promise<void>;
}

export interface ProcCluster {
  regions: ProcRegion[];
  region(name: string): ProcRegion;
  /** the region's internal traffic, both ways, is dropped until heal() (cut-proxy.ts) */
  cut(name: string): void;
  heal(name: string): void;
  /** the proxy carrying what `from` sends to `to` */
  link(from: string, to: string): CutProxy;
  stop(): Promise<void>;
}

const START_DEADLINE_MS = 30_000;
const closeMeta = new WeakMap<ProcRegion, () => Promise<void>>();

export async function startProcCluster(names: string[]): Promise<ProcCluster> {
  const ports = await Promise.all(names.map(() => freePort()));
  const portOf = new Map(names.map((n, i) => [n, ports[i]!]));
  // the pair from → to: what `from` sends to `to`'s internal endpoint
  const proxies = new Map<string, { from: string; to: string; proxy: CutProxy }>();
  for (const from of names) {
    for (const to of names) {
      if (from === to) continue;
      const proxy = await startCutProxy({ host: '127.0.0.1', port: portOf.get(to)! });
      proxies.set(`${from}>${to}`, { from, to, proxy });
    }
  }
  const regions: ProcRegion[] = [];
  const cluster: ProcCluster = {
    regions,
    region(name) {
      const r = regions.find((x) => x.name === name);
      if (!r) throw new Error(`no region ${name}`);
      return r;
    },
    cut(name) {
      for (const p of proxies.values()) if (p.from === name || p.to === name) p.proxy.cut();
    },
    heal(name) {
      for (const p of proxies.values()) if (p.from === name || p.to === name) p.proxy.heal();
    },
    link(from, to) {
      const p = proxies.get(`${from}>${to}`);
      if (!p) throw new Error(`no link ${from} → ${to}`);
      return p.proxy;
    },
    async stop() {
      for (const r of regions) {
        r.s3.destroy();
        await r.killGateway();
        await closeMeta.get(r)?.();
        await r.redis.stop();
        rmSync(r.dataDir, { recursive: true, force: true });
        rmSync(r.confDir, { recursive: true, force: true });
      }
      await Promise.all([...proxies.values()].map((p) => p.proxy.close()));
    },
  };
  try {
    for (const name of names) regions.push(await startRegion(name, portOf.get(name)!, names, (to) => proxies.get(`${name}>${to}`)!.proxy.url));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function startRegion(name: string, port: number, names: string[], via: (to: string) => string): Promise<ProcRegion> {
  const dataDir = tempDir(`erne-${name}-`);
  const confDir = tempDir(`erne-${name}-cluster-`);
  const clusterFile = join(confDir, 'cluster.json');
  // the first region decides bucket names; every other region is reached through its proxy
  writeFileSync(
    clusterFile,
    JSON.stringify({ control: names[0], regions: names.map((n) => ({ name: n, internal: [n === name ? `http://127.0.0.1:${port}` : via(n)] })) }),
  );
  const redis = await startRedis();
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let out = '';

  const startGateway = async () => {
    const args = [ERNE_JS, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--region', name, '--cluster', clusterFile, '--redis-url', redis.url];
    const p = spawn(process.execPath, args, {
      env: { ...process.env, ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId, ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey, ERNE_CLUSTER_SECRET: CLUSTER_SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = p;
    const mark = out.length;
    const tag = (d: Buffer) => (out += d.toString());
    p.stdout!.on('data', tag);
    p.stderr!.on('data', tag);
    exited = new Promise((resolve) => p.once('exit', () => resolve()));
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!out.slice(mark).includes('serving S3 at') || !(await answers(port))) {
      if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${name} gateway exited early:\n${out.slice(mark)}`);
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`${name} gateway did not serve within ${START_DEADLINE_MS / 1000} s:\n${out.slice(mark)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await startGateway();
  } catch (err) {
    // the region never joined the cluster's list: what it started is stopped here
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(confDir, { recursive: true, force: true });
    throw err;
  }
  let meta: KvStore | undefined;
  const region: ProcRegion = {
    name,
    confDir,
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    redis,
    s3: new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: name,
      forcePathStyle: true,
      credentials: ROOT,
      maxAttempts: 1,
      // the gateway behind it gets killed: no connection outlives a request
      requestHandler: { httpAgent: new http.Agent({ keepAlive: false }) },
    }),
    async outboxDepth() {
      meta ??= await openLmdb(join(dataDir, 'meta'));
      const outbox = new Outbox(meta);
      let n = 0;
      for (const dest of names) if (dest !== name) n += (await outbox.depth(dest)).count;
      return n;
    },
    pid: () => proc?.pid,
    output: () => out,
    async killGateway() {
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    startGateway,
  };
  closeMeta.set(region, async () => meta?.close());
  return region;
}
