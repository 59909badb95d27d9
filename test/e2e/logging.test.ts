/**
 * The JSON access log: one line per S3 request with what an operator needs (request id,
 * operation, bucket, key, status, error code, bytes, latency, remote address, access key id)
 * and nothing secret. The gateway is given a pino logger writing to a stream the test reads.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../gateway/observe/log.js';
import type { LogLevel } from '../../gateway/observe/levels.js';
import { ROOT, startTestGateway, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';

type Line = Record<string, unknown>;

function capture(level: LogLevel): { lines: Line[]; raw: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: Line[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l) as Line);
      }
      cb();
    },
  });
  return { lines, raw, logger: createLogger(level, stream) };
}

/** the access line of a response (by its x-amz-request-id); the line is written when the response closes */
async function lineFor(lines: Line[], requestId: string | string[] | undefined): Promise<Line> {
  for (let i = 0; i < 50; i++) {
    const l = lines.find((x) => x['reqId'] === requestId);
    if (l) return l;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no access line for ${String(requestId)}`);
}

describe('access log at info', () => {
  const cap = capture('info');
  const bucket = uniqueBucket('log');
  const erne = useGateway({ bucket, logger: cap.logger });

  it('records a PUT and a GET with operation, bucket, key, status, bytes, latency, caller', async () => {
    const body = Buffer.alloc(3000, 7);
    const put = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/dir/obj.bin`, body });
    const get = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/dir/obj.bin` });
    const p = await lineFor(cap.lines, put.headers['x-amz-request-id']);
    expect(p).toMatchObject({ level: 'info', msg: 'request', op: 'PutObject', bucket, key: 'dir/obj.bin', status: 200, bytesIn: 3000, accessKey: ROOT.accessKeyId, remote: '127.0.0.1' });
    expect(typeof p['time']).toBe('string');
    expect(p['ms']).toBeGreaterThanOrEqual(0);
    const g = await lineFor(cap.lines, get.headers['x-amz-request-id']);
    expect(g).toMatchObject({ op: 'GetObject', status: 200, bytesIn: 0 });
    // the body plus the response headers
    expect(g['bytesOut']).toBeGreaterThan(3000);
    expect(g['bytesOut']).toBeLessThan(4000);
  });

  it('records an error with its S3 code, and an anonymous caller without a key', async () => {
    const r = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/missing` });
    expect(await lineFor(cap.lines, r.headers['x-amz-request-id'])).toMatchObject({ op: 'GetObject', status: 404, code: 'NoSuchKey' });
    const anon = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/dir/obj.bin`, creds: null });
    const l = await lineFor(cap.lines, anon.headers['x-amz-request-id']);
    expect(l).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(l['accessKey']).toBeUndefined();
  });

  it('counts the body of a chunked upload without Content-Length', async () => {
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/chunked`, body: Buffer.alloc(5000, 1), chunked: true, headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } });
    expect(r.status).toBe(200);
    expect(await lineFor(cap.lines, r.headers['x-amz-request-id'])).toMatchObject({ op: 'PutObject', bytesIn: 5000 });
  });

  it('cuts long keys and never writes secrets or signatures', async () => {
    const key = 'k'.repeat(900);
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/${key}`, body: 'x' });
    const l = await lineFor(cap.lines, r.headers['x-amz-request-id']);
    expect((l['key'] as string).length).toBeLessThanOrEqual(257);
    const all = cap.raw.join('\n');
    expect(all).not.toContain(ROOT.secretAccessKey);
    expect(all).not.toMatch(/Signature=|AWS4-HMAC-SHA256 Credential/);
  });
});

describe('log levels', () => {
  it('warn: no access lines; silent: nothing', async () => {
    for (const level of ['warn', 'silent'] as const) {
      const cap = capture(level);
      const t = await startTestGateway({ logger: cap.logger });
      try {
        await rawRequest(t.gw, { method: 'GET', path: '/' });
        await rawRequest(t.gw, { method: 'GET', path: '/no-such-bucket-here' });
      } finally {
        // once stopped, every response has closed, so any access line would have been written
        await t.stop();
      }
      expect(cap.lines.filter((l) => l['msg'] === 'request')).toEqual([]);
    }
  });
});
