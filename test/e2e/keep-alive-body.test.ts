/**
 * A request whose body the gateway answers without reading (a CORS preflight that carries
 * one): once the answer is out, the rest of the body is read and dropped so the keep-alive
 * connection carries the next request; a body that goes on long after the answer closes the
 * connection instead of holding it (gateway/linger.ts, drainAfterAnswer).
 */
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DRAIN_MS } from '../../gateway/linger.js';
import { useGateway } from '../helpers/gateway.js';
import { rawConnection, type RawConnection } from '../helpers/http-conn.js';
import { waitFor } from '../helpers/wait.js';

const erne = useGateway({ bucket: true });

beforeAll(async () => {
  await erne.s3.send(
    new PutBucketCorsCommand({ Bucket: erne.bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['PUT'] }] } }),
  );
});

let conn: RawConnection | undefined;
afterEach(() => conn?.destroy());

/** a preflight the bucket's rules allow, with a body of `length` bytes to follow */
function preflight(length: number): string {
  return (
    `OPTIONS /${erne.bucket}/k HTTP/1.1\r\nHost: ${new URL(erne.gw.url).host}\r\n` +
    `Origin: https://app.example.com\r\nAccess-Control-Request-Method: PUT\r\nContent-Length: ${length}\r\n\r\n`
  );
}

describe('a body the answer did not need', () => {
  it('is dropped after the answer: the next request on the connection is answered', async () => {
    conn = await rawConnection(erne.gw.url);
    const body = Buffer.alloc(1024 * 1024, 0x61);
    conn.write(preflight(body.length));
    conn.write(body.subarray(0, 64 * 1024));
    // answered while most of the body is still to come
    const first = await conn.answer(1);
    expect(first.status).toBe(200);
    expect(first.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(first.headers.connection).not.toBe('close');
    conn.write(body.subarray(64 * 1024));
    conn.write(preflight(0));
    const second = await conn.answer(2);
    expect(second.status).toBe(200);
    expect(second.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(conn.closed).toBe(false);
  });

  it('closes the connection when the body goes on long after the answer', async () => {
    conn = await rawConnection(erne.gw.url);
    conn.write(preflight(64 * 1024 * 1024));
    conn.write(Buffer.alloc(1024, 0x61));
    expect((await conn.answer(1)).status).toBe(200);
    const answeredAt = Date.now();
    // nothing more is sent: the gateway stops waiting for the body soon after DRAIN_MS (node
    // alone would hold the connection until the slow-body limit, 30 s by default)
    const c = conn;
    await waitFor('the gateway to close the connection', () => c.closed, 10_000);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(DRAIN_MS - 50);
  });
});
