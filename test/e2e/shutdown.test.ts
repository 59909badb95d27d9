/**
 * SIGTERM on `erne serve` (a child process; needs `npm run build`): the listener closes at
 * once (new connections are refused), an upload in flight finishes with 200 and is there
 * after a restart, the process exits 0; and the wait is bounded: an upload that never
 * finishes is cut after ERNE_SHUTDOWN_GRACE_MS.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { signRequest } from '../helpers/fuzz-http.js';
import { bodyBytes, ROOT, s3Client } from '../helpers/gateway.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started: ChildGateway[] = [];

afterEach(async () => {
  for (const g of started.splice(0)) await g.stop();
});

function putHead(gw: ChildGateway, bucket: string, key: string, size: number): Buffer {
  const r = signRequest(
    { method: 'PUT', path: `/${bucket}/${key}`, query: '', headers: [['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD']], body: Buffer.alloc(0), contentLength: 'omit' },
    ROOT,
    `127.0.0.1:${gw.port}`,
  );
  let head = `PUT ${r.path} HTTP/1.1\r\n`;
  for (const [n, v] of r.headers) head += `${n}: ${v}\r\n`;
  return Buffer.from(`${head}Content-Length: ${size}\r\n\r\n`);
}

function open(port: number): Promise<{ sock: net.Socket; received: () => string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.once('connect', () => resolve({ sock, received: () => data }));
    sock.once('error', reject);
  });
}

/** polls `cond` until it holds (or throws after `ms`) */
async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

/** the gateway's erne_requests_in_flight gauge: a request counts once the S3 app has it */
function inFlight(gw: ChildGateway): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: gw.port, path: '/.erne/metrics', agent: false }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(Number(/^erne_requests_in_flight (\d+)/m.exec(text)?.[1] ?? NaN)));
      })
      .on('error', reject);
  });
}

/** whether a new connection to the port is refused */
function refuses(port: number): Promise<boolean> {
  return open(port).then(
    (c) => {
      c.sock.destroy();
      return false;
    },
    (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED',
  );
}

function exitOf(gw: ChildGateway): Promise<{ code: number | null; signal: string | null }> {
  if (gw.proc.exitCode !== null || gw.proc.signalCode !== null) return Promise.resolve({ code: gw.proc.exitCode, signal: gw.proc.signalCode });
  return new Promise((r) => gw.proc.once('exit', (code, signal) => r({ code, signal })));
}

it('SIGTERM refuses new connections, lets the upload in flight finish, and exits 0; the object survives a restart', async () => {
  const gw = await startChildGateway();
  started.push(gw);
  const s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: 'drain' }));
  s3.destroy();

  const data = randomBytes(200_000);
  const up = await open(gw.port);
  up.sock.write(putHead(gw, 'drain', 'in-flight', data.length));
  up.sock.write(data.subarray(0, 40_000));
  // the gateway is serving the upload (the probe itself is not an S3 request)
  await until('the upload is in flight', async () => (await inFlight(gw)) === 1);
  const exited = exitOf(gw);
  gw.proc.kill('SIGTERM');

  // the listener closes while the upload is still open: a new connection is refused
  await until('new connections are refused', () => refuses(gw.port));
  expect(up.received()).toBe('');

  // the upload that was in flight goes on and is answered
  for (let i = 40_000; i < data.length; i += 40_000) {
    up.sock.write(data.subarray(i, i + 40_000));
    await sleep(150);
  }
  for (let i = 0; i < 100 && !/\r\n\r\n/.test(up.received()); i++) await sleep(50);
  expect(up.received()).toMatch(/^HTTP\/1\.1 200/);
  up.sock.destroy();
  expect(await exited).toEqual({ code: 0, signal: null });
  expect(gw.output()).toMatch(/SIGTERM: closing/);

  // restart on the same data: the acknowledged upload is there, whole
  const again = await startChildGateway({ dataDir: gw.dataDir, port: gw.port });
  started.splice(0, 1, again);
  const c = s3Client(again);
  const got = await c.send(new GetObjectCommand({ Bucket: 'drain', Key: 'in-flight' }));
  expect((await bodyBytes(got.Body)).equals(data)).toBe(true);
  c.destroy();
}, 60_000);

it('SIGTERM waits no longer than the grace period for a request that never finishes', async () => {
  const gw = await startChildGateway({ env: { ERNE_SHUTDOWN_GRACE_MS: '1500' } });
  started.push(gw);
  const s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: 'stuck' }));
  s3.destroy();

  const up = await open(gw.port);
  up.sock.on('error', () => undefined);
  up.sock.write(putHead(gw, 'stuck', 'never-finished', 1_000_000));
  up.sock.write(randomBytes(10_000));
  await until('the upload is in flight', async () => (await inFlight(gw)) === 1);
  const exited = exitOf(gw);
  const t0 = Date.now();
  gw.proc.kill('SIGTERM');
  expect(await exited).toEqual({ code: 0, signal: null });
  const took = Date.now() - t0;
  expect(took).toBeGreaterThanOrEqual(1400);
  expect(took).toBeLessThan(5000);
  up.sock.destroy();

  // the cut upload left nothing behind
  const again = await startChildGateway({ dataDir: gw.dataDir, port: gw.port });
  started.splice(0, 1, again);
  const c = s3Client(again);
  const e = await c.send(new GetObjectCommand({ Bucket: 'stuck', Key: 'never-finished' })).then(
    () => 'found',
    (err: { name: string }) => err.name,
  );
  expect(e).toBe('NoSuchKey');
  c.destroy();
}, 60_000);
