/**
 * The latency proxy of `erne dev --latency`: real TCP and HTTP servers behind it. Each
 * direction is delayed by at least the one-way latency, bytes arrive intact and in order, and
 * it streams (the far side sees the first bytes of a message before the rest is even sent).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startLatencyProxy, type LatencyProxy } from '../../../cli/dev/latency-proxy.js';

const DELAY = 60;

/** polls until `ok` holds (no fixed sleeps) */
async function until(ok: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => server.close(r)));
  return (server.address() as net.AddressInfo).port;
}

async function proxyTo(port: number, delayMs = DELAY): Promise<LatencyProxy> {
  const p = await startLatencyProxy({ target: { host: '127.0.0.1', port }, delayMs });
  closers.push(() => p.close());
  return p;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
    closers.push(async () => void s.destroy());
  });
}

describe('latency proxy', () => {
  it('delays each direction by at least the one-way latency', async () => {
    let arrived = 0;
    let replied = 0;
    const server = net.createServer((s) => {
      s.once('data', () => {
        arrived = performance.now();
        replied = performance.now();
        s.write('pong');
      });
    });
    const proxy = await proxyTo(await listen(server));
    const client = await connect(proxy.port);
    let answered = 0;
    client.once('data', () => (answered = performance.now()));
    const sent = performance.now();
    client.write('ping');
    await until(() => answered > 0, 'the reply');
    expect(arrived - sent).toBeGreaterThanOrEqual(DELAY);
    expect(answered - replied).toBeGreaterThanOrEqual(DELAY);
    // and not wildly more: one hop on loopback
    expect(answered - sent).toBeLessThan(2 * DELAY + 1000);
  });

  it('carries 8 MiB both ways intact and in order (more than it holds in flight: back-pressure)', async () => {
    const server = net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    const proxy = await proxyTo(await listen(server), 5);
    const client = await connect(proxy.port);
    const body = randomBytes(8 * 1024 * 1024);
    const back = createHash('sha256');
    let got = 0;
    client.on('data', (d: Buffer) => {
      back.update(d);
      got += d.length;
    });
    const ended = new Promise((r) => client.once('end', r));
    // in uneven pieces, so chunk boundaries differ on each side
    for (let off = 0; off < body.length; ) {
      const n = Math.min(body.length - off, 1 + ((off * 7919) % 300_000));
      if (!client.write(body.subarray(off, off + n))) await new Promise((r) => client.once('drain', r));
      off += n;
    }
    client.end();
    await ended;
    expect(got).toBe(body.length);
    expect(back.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('streams: the server reads the first part before the client has sent the rest', async () => {
    const received: string[] = [];
    let ended = false;
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('data', (d: Buffer) => received.push(d.toString()));
      s.once('end', () => {
        ended = true;
        s.end('bye');
      });
    });
    const proxy = await proxyTo(await listen(server));
    const client = await connect(proxy.port);
    let reply = '';
    client.on('data', (d: Buffer) => (reply += d.toString()));
    client.write('first part;');
    await until(() => received.join('') === 'first part;', 'the first part at the server');
    expect(ended).toBe(false);
    client.end('second part');
    // the half-close travels behind the bytes, and the server still answers after it
    await until(() => reply === 'bye', 'the answer after the half-close');
    expect(received.join('')).toBe('first part;second part');
  });

  it('streams an HTTP response: the client has its first bytes while the server still writes', async () => {
    let sendRest: (() => void) | undefined;
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('head of the body;');
      sendRest = () => res.end('tail of the body');
    });
    closers.push(async () => void server.closeAllConnections());
    const proxy = await proxyTo(await listen(server));
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get(`${proxy.url}/x`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (s: string) => {
            text += s;
            // only now, with the first part in hand, does the server send the rest
            if (text === 'head of the body;') sendRest!();
          });
          res.once('end', () => resolve(text));
        })
        .once('error', reject);
    });
    expect(body).toBe('head of the body;tail of the body');
  });

  it('cut drops open connections and refuses new ones until heal', async () => {
    // the cut resets the server's side too
    const server = net.createServer((s) => s.on('error', () => undefined).pipe(s));
    const proxy = await proxyTo(await listen(server), 1);
    const client = await connect(proxy.port);
    const closed = new Promise((r) => client.once('close', r));
    proxy.cut();
    await closed;
    const refused = await connect(proxy.port).then(
      (s) => new Promise<boolean>((r) => s.once('close', () => r(true)).once('data', () => r(false)).write('x')),
      () => true,
    );
    expect(refused).toBe(true);
    proxy.heal();
    const again = await connect(proxy.port);
    let echoed = '';
    again.on('data', (d: Buffer) => (echoed += d.toString()));
    again.write('hello');
    await until(() => echoed === 'hello', 'the echo after heal');
  });
});
