import aws4 from 'aws4';
import { describe, expect, it } from 'vitest';
import { Signer, canonicalQuery, uriEncode } from '../../bench/signer.js';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const when = Date.UTC(2024, 4, 6, 12, 34, 56);

describe('bench signer agrees with aws4', () => {
  it.each([
    ['GET', '/bench/get-1024/00000001', {}],
    ['PUT', '/bench/put/x-1-2', {}],
    ['HEAD', '/b/a%20key/with%2Bplus', {}],
    ['GET', '/bench', { 'list-type': '2', 'max-keys': '1000', prefix: 'list-10/', 'start-after': 'list-10/00000041' }],
    ['POST', '/bench/mpu/k', { uploads: '' }],
    ['PUT', '/bench/mpu/k', { partNumber: '3', uploadId: 'a/b+c=' }],
  ] as [string, string, Record<string, string>][])('%s %s %j', (method, path, query) => {
    const qs = canonicalQuery(query);
    const mine = new Signer({ ...creds, region: 'us-east-1' }).sign(method, '127.0.0.1:9000', path, qs, when);
    const theirs = aws4.sign(
      {
        service: 's3',
        region: 'us-east-1',
        method,
        host: '127.0.0.1:9000',
        path: qs ? `${path}?${qs}` : path,
        headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'X-Amz-Date': mine['x-amz-date']! },
        doNotEncodePath: true,
      },
      creds,
    );
    expect(mine['x-amz-date']).toBe('20240506T123456Z');
    expect(mine.authorization).toBe((theirs.headers as Record<string, string>)['Authorization']);
  });
});

describe('uriEncode', () => {
  it.each([
    ['abc-_.~', false, 'abc-_.~'],
    ["a b!'()*", false, 'a%20b%21%27%28%29%2A'],
    ['a/b', false, 'a%2Fb'],
    ['a/b c', true, 'a/b%20c'],
    ['é', false, '%C3%A9'],
  ])('%j (keep "/": %s) is %s', (s, keep, out) => {
    expect(uriEncode(s, keep)).toBe(out);
  });
});
