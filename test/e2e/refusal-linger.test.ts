/**
 * A refused upload's answer reaches the client. A client that is still sending a large body
 * when the gateway refuses it (wrong key, missing bucket, no right) must read the 403/404, not
 * a connection reset that threw the answer away (EPIPE / ECONNRESET): the gateway ends its side
 * and reads what still arrives for a moment before closing (gateway/linger.ts).
 */
import http from 'node:http';
import aws4 from 'aws4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { REGION, ROOT } from '../helpers/gateway.js';

// the gateway in its own process: the test blocks its own event loop (below)
let gw: ChildGateway;
beforeAll(async () => {
  gw = await startChildGateway();
});
afterAll(() => gw?.stop());
const BODY = Buffer.alloc(8 * 1024 * 1024, 0x61);

/** a signed PUT of BODY, written as fast as the socket takes it; the status, or the error the client saw */
function put(path: string, creds: { accessKeyId: string; secretAccessKey: string }): Promise<string> {
  const url = new URL(gw.url);
  const headers: Record<string, string> = { 'Content-Length': String(BODY.length), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' };
  const signed = aws4.sign({ service: 's3', region: REGION, method: 'PUT', host: url.host, path, headers }, creds);
  return new Promise((resolve) => {
    const req = http.request({ host: url.hostname, port: url.port, method: 'PUT', path, headers: signed.headers as Record<string, string>, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(`${res.statusCode} ${/<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? ''}`));
      res.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    req.end(BODY);
    // a client busy for a moment (a loaded machine does this on its own): the answer waits
    // unread in the kernel while the body is still going out; a reset now would discard it
    const until = Date.now() + 300;
    while (Date.now() < until);
  });
}

describe('a refused upload still being sent', () => {
  it('gets its answer, never a reset, every time', async () => {
    const wrongKey = { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'not-the-secret-at-all' };
    const answers: string[] = [];
    for (let round = 0; round < 8; round++) {
      answers.push(...(await Promise.all([put('/no-such-bucket-here/k', ROOT), put('/no-such-bucket-here/k', wrongKey)])));
    }
    expect(answers.filter((a, i) => a !== (i % 2 === 0 ? '404 NoSuchBucket' : '403 SignatureDoesNotMatch'))).toEqual([]);
  }, 60_000);
});
