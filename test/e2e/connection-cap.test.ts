/**
 * Connections per client address (issue 9): with `ulimit -n 512` and no cap, 600 idle
 * connections from one client starved the process of descriptors and health checks failed
 * for over a minute. Now one address holds at most --max-connections-per-client (default 256);
 * further connections are closed at once and counted, and everybody else, health checks
 * included, is served. Loopback gives the test many client addresses (127.0.0.2 is another
 * client than 127.0.0.1). `erne serve` as a child process under the ulimit of the report.
 */
import http from 'node:http';
import net from 'node:net';
import aws4 from 'aws4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { REGION, ROOT } from '../helpers/gateway.js';

const HOG = '127.0.0.1';
const OTHER = '127.0.0.2';

/** status of a GET from `from`, or 'refused' when the connection is closed without an answer */
function get(port: number, path: string, from: string, signed = false): Promise<number | 'refused'> {
  const headers: Record<string, string> = { Host: `127.0.0.1:${port}` };
  if (signed) Object.assign(headers, aws4.sign({ service: 's3', region: REGION, method: 'GET', host: headers.Host, path, headers: { ...headers } }, ROOT).headers);
  return new Promise((resolve) => {
    const r = http.get({ host: '127.0.0.1', port, path, localAddress: from, headers, agent: false, setHost: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', () => resolve('refused'));
  });
}

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('connections per client address', () => {
  let gw: ChildGateway;
  const idle: net.Socket[] = [];
  let closedByServer = 0;
  beforeAll(async () => {
    gw = await startChildGateway({ openFiles: 512 });
  }, 60_000);
  afterAll(async () => {
    for (const s of idle) s.destroy();
    await gw?.stop();
  });

  it('600 idle connections from one address: 256 are held, the rest closed at once; health and other clients are served', async () => {
    for (let i = 0; i < 600; i++) {
      const s = net.connect({ host: '127.0.0.1', port: gw.port, localAddress: HOG });
      s.on('error', () => undefined);
      s.on('close', () => closedByServer++);
      idle.push(s);
    }
    await until('connections closed by the gateway', () => closedByServer, (n) => n >= 600 - 256);
    // health from anyone else, and S3 from anyone else
    expect(await get(gw.port, '/.erne/health', OTHER)).toBe(200);
    expect(await get(gw.port, '/', OTHER, true)).toBe(200);
    // the capped address gets no new connection, S3 or not
    expect(await get(gw.port, '/', HOG, true)).toBe('refused');
    const metrics = await new Promise<string>((resolve) =>
      http.get({ host: '127.0.0.1', port: gw.port, path: '/.erne/metrics', localAddress: OTHER }, (res) => {
        let t = '';
        res.on('data', (c: Buffer) => (t += c.toString()));
        res.on('end', () => resolve(t));
      }),
    );
    const refused = Number(/^erne_connections_refused_total (\d+)$/m.exec(metrics)?.[1]);
    expect(refused).toBeGreaterThanOrEqual(600 - 256 + 1);
    // the 256 held ones are still open (not closed by the cap)
    expect(idle.filter((s) => !s.destroyed).length).toBe(256);
  }, 60_000);

  it('once the address closes some of its connections, it is served again', async () => {
    for (const s of idle.filter((x) => !x.destroyed).slice(0, 10)) s.destroy();
    expect(await until('a fresh S3 request from the capped address', () => get(gw.port, '/', HOG, true), (v) => v === 200)).toBe(200);
  }, 60_000);
});
