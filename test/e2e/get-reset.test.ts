/**
 * Item 14 of issue 9: a client that drops the connection during a streaming GET. A streaming
 * GET's response carries ten 'close' listeners of its own (limiter, observer, Hono, the body
 * pipeline); gateway/limits.ts's clientError handler took the reset for "junk after a whole
 * request" and waited on the response with one more, so node warned
 * (MaxListenersExceededWarning) at the first reset. Real resets and plain closes, after
 * keep-alive GETs on the same connection; the gateway's process is this one, so its
 * warnings are ours to watch.
 */
import http from 'node:http';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION, ROOT, useGateway } from '../helpers/gateway.js';

const BIG = Buffer.alloc(16 * 1024 * 1024, 7);

function signedGet(url: URL, path: string): http.RequestOptions {
  const signed = aws4.sign({ service: 's3', region: REGION, method: 'GET', host: url.host, path, headers: { Host: url.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } }, ROOT);
  return { host: url.hostname, port: url.port, method: 'GET', path, headers: signed.headers as Record<string, string>, setHost: false };
}

/** a whole GET on the agent's (kept-alive) connection */
function getWhole(url: URL, path: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .request({ ...signedGet(url, path), agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject)
      .end();
  });
}

/** starts the GET on the same connection and drops it after the first bytes of the body */
function getAndDrop(url: URL, path: string, agent: http.Agent, reset: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = http.request({ ...signedGet(url, path), agent }, (res) => {
      res.once('data', () => {
        if (reset) res.socket.resetAndDestroy();
        else res.socket.destroy();
        resolve();
      });
    });
    r.on('error', () => undefined);
    r.on('response', (res) => res.on('error', () => undefined));
    r.once('error', reject);
    r.end();
  });
}

async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/.erne/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('erne_requests_in_flight '));
  return Number(line?.split(' ')[1]);
}

describe('a client dropping a streaming GET', () => {
  const f = useGateway({ bucket: true });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeAll(async () => {
    await f.s3.send(new PutObjectCommand({ Bucket: f.bucket, Key: 'big', Body: BIG }));
    process.on('warning', onWarning);
  });
  afterAll(() => void process.off('warning', onWarning));

  it("twenty resets and closes mid-body add no listener past node's limit (no MaxListenersExceededWarning)", async () => {
    const url = new URL(f.gw.url);
    for (let i = 0; i < 20; i++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      // the same keep-alive connection serves whole GETs first
      expect(await getWhole(url, `/${f.bucket}/big`, agent)).toBe(200);
      await getAndDrop(url, `/${f.bucket}/big`, agent, i % 2 === 0);
      agent.destroy();
      // the gateway has seen the drop once the request is no longer in flight
      while ((await inFlight(f.gw.url)) !== 0) await new Promise((r) => setImmediate(r));
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    // and it still serves
    expect(await getWhole(url, `/${f.bucket}/big`, new http.Agent())).toBe(200);
  }, 60_000);
});
