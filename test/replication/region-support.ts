/**
 * Support for the cross-region read tests: a cluster topology, a redis-server of the test's
 * own (the cluster option names the region's Redis, where replication queues its changes) and
 * a proxy in front of a region's internal endpoint that records what other regions fetch and
 * can cut an answer short.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { parseTopology, type Topology } from '../../replication/topology.js';
import { freePort } from '../helpers/child.js';
import { program } from '../helpers/requires.js';

export const CLUSTER_SECRET = 'cross-region-test-secret-0123456789';

export const redisServer = program('redis-server', ['--version'], 'redis-server');

/** the topology as region `self` loads it: each region's internal URLs */
export function topology(self: string, urls: Record<string, string[]>): Topology {
  return parseTopology({ secret: CLUSTER_SECRET, regions: Object.entries(urls).map(([name, internal]) => ({ name, internal })) }, self);
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** a redis-server on a free loopback port keeping nothing on disk */
export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface Fetched {
  key: string;
  range?: string;
  status?: number;
}

export interface InternalProxy {
  /** its URL, to name in the topology instead of the region's own */
  url: string;
  /** every object fetch that came through, in order */
  fetched: Fetched[];
  /** where it forwards to (set once the gateway behind it is up) */
  target?: number;
  /** when set, answers are cut (the connection destroyed) after this many body bytes */
  cutAfter?: number;
  close(): Promise<void>;
}

/** a proxy in front of a region's internal endpoint; with no target (or a dead one) connections are dropped */
export async function startProxy(): Promise<InternalProxy> {
  const proxy: InternalProxy = { url: '', fetched: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const rec: Fetched = { key: q.get('key') ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) };
    if (req.url?.startsWith('/.erne/internal/replication/object')) proxy.fetched.push(rec);
    if (proxy.target === undefined) return void res.destroy();
    const up = http.request({ host: '127.0.0.1', port: proxy.target, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      rec.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      const cut = proxy.cutAfter;
      if (cut === undefined) return void answer.pipe(res);
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        if (sent + chunk.length >= cut) {
          res.write(chunk.subarray(0, cut - sent), () => res.destroy());
          answer.destroy();
          return;
        }
        sent += chunk.length;
        res.write(chunk);
      });
      answer.once('end', () => res.end());
    });
    up.once('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}
