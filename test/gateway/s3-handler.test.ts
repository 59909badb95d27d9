/**
 * The S3 handler as a plain Node request listener (gateway/app.ts): a failure outside the
 * operation's own error handling still gets an S3 XML 500 and the server goes on serving; a
 * request body left half read by its handler is dropped after the answer, so the keep-alive
 * connection carries the next request (gateway/linger.ts, drainAfterAnswer).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createS3Handler } from '../../gateway/app.js';
import { signingRegions } from '../../gateway/auth/regions.js';
import type { Services } from '../../gateway/context.js';
import { S3Error } from '../../gateway/errors.js';
import { drainAfterAnswer } from '../../gateway/linger.js';
import { rawConnection, type RawConnection } from '../helpers/http-conn.js';
import { parseError, rawRequest } from '../helpers/raw.js';

let server: http.Server | undefined;
let conn: RawConnection | undefined;
afterEach(async () => {
  conn?.destroy();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()).closeAllConnections());
  server = undefined;
});

async function listen(listener: http.RequestListener): Promise<string> {
  server = http.createServer(listener);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a failure outside an operation', () => {
  it('before the request is looked at: 500 InternalError in S3 XML, logged, and the server serves on', async () => {
    const lines: string[] = [];
    let calls = 0;
    const svc = {
      forwardedBy: () => {
        calls += 1;
        throw new Error('boom outside the operation');
      },
    } as unknown as Services;
    const s3 = createS3Handler(svc, { log: (l) => lines.push(l) });
    const url = await listen((req, res) => void s3(req, res));
    for (const method of ['GET', 'PUT']) {
      const res = await rawRequest({ url }, { method, path: '/b/k', creds: null, ...(method === 'PUT' ? { body: 'x' } : {}) });
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toBe('application/xml');
      expect(parseError(res.text).Code).toBe('InternalError');
      expect(res.headers['x-amz-request-id']).toMatch(/^[0-9A-F]{16}$/);
    }
    expect(calls).toBe(2);
    expect(lines.filter((l) => l.includes('boom outside the operation'))).toHaveLength(2);
  });

  it('while answering an error: 500 InternalError instead', async () => {
    const lines: string[] = [];
    const svc = {
      signingRegions: signingRegions('us-east-1'),
      sigv2: true,
      layer: {
        getAccessKey: async () => {
          // a header node refuses to write: writing this error throws
          const err = new S3Error('AccessDenied');
          err.headers = { 'x-erne-bad': 'a\r\nb' };
          throw err;
        },
      },
    } as unknown as Services;
    const s3 = createS3Handler(svc, { log: (l) => lines.push(l) });
    const url = await listen((req, res) => void s3(req, res));
    const res = await rawRequest({ url }, { method: 'GET', path: '/b/k' });
    expect(res.status).toBe(500);
    expect(parseError(res.text).Code).toBe('InternalError');
    expect(lines.some((l) => l.includes('failed outside its handler') && l.includes('Invalid character in header content'))).toBe(true);
  });
});

describe('a body left half read', () => {
  it('is dropped after the answer: the next request on the connection is answered', async () => {
    const url = await listen((req, res) => {
      if (req.method === 'GET') return void res.end('second');
      drainAfterAnswer(req, res);
      // reads one piece of the body, then answers without the rest
      req.once('data', () => {
        req.pause();
        res.end('first');
      });
    });
    conn = await rawConnection(url);
    const body = Buffer.alloc(4 * 1024 * 1024, 0x61);
    conn.write(`PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n`);
    conn.write(body);
    conn.write('GET /y HTTP/1.1\r\nHost: h\r\n\r\n');
    expect((await conn.answer(1)).body).toBe('first');
    expect((await conn.answer(2)).body).toBe('second');
    expect(conn.closed).toBe(false);
  });
});
