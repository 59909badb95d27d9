import { describe, expect, it } from 'vitest';
import { canonicalHeaders, canonicalRequest } from '../../../gateway/auth/canonical-request.js';
import { parseAuthorizationHeader } from '../../../gateway/auth/parse-header.js';
import { canonicalQuery, canonicalUri, uriEncode } from '../../../gateway/auth/uri-encode.js';

describe('canonicalUri: no normalisation, strict re-encoding per segment', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['/test.txt', '/test.txt'],
    ['/test$file.text', '/test%24file.text'], // AWS example
    ['/test%24file.text', '/test%24file.text'],
    ['/bucket/a b', '/bucket/a%20b'],
    ['/bucket/a%20b', '/bucket/a%20b'],
    ['/bucket/a+b', '/bucket/a%2Bb'], // '+' is literal in a path
    ['/bucket/%7Etilde~', '/bucket/~tilde~'],
    ['/bucket/a%2fb', '/bucket/a%2Fb'], // an encoded slash stays encoded, upper-case hex
    ['/bucket//double//slash/', '/bucket//double//slash/'],
    ['/bucket/./dot/../x', '/bucket/./dot/../x'],
    ['/bucket/%E2%82%AC', '/bucket/%E2%82%AC'],
    ['/bucket/€', '/bucket/%E2%82%AC'],
    ['/bucket/100%', '/bucket/100%25'], // stray '%' is literal
    ['/bucket/!*\'()', '/bucket/%21%2A%27%28%29'],
  ])('%j → %j', (raw, canonical) => {
    expect(canonicalUri(raw)).toBe(canonical);
  });
});

describe('canonicalQuery: decode, strict re-encode, sort by name then value', () => {
  it.each([
    ['', ''],
    ['lifecycle', 'lifecycle='],
    ['max-keys=2&prefix=J', 'max-keys=2&prefix=J'],
    ['prefix=J&max-keys=2', 'max-keys=2&prefix=J'],
    ['prefix=a/b&delimiter=/', 'delimiter=%2F&prefix=a%2Fb'], // s3fs sends '/' bare
    ['prefix=a%2Fb', 'prefix=a%2Fb'],
    ['prefix=a%2fb', 'prefix=a%2Fb'],
    ['prefix=a+b', 'prefix=a%20b'], // form encoding: '+' is a space
    ['prefix=a%2Bb', 'prefix=a%2Bb'],
    ['k=b&k=a', 'k=a&k=b'], // same name: by value
    ['a=1&&b=2&', 'a=1&b=2'],
    ['uploads&key=%E2%82%AC', 'key=%E2%82%AC&uploads='],
    ['X-Amz-Signature=abc&X-Amz-Date=x', 'X-Amz-Date=x&X-Amz-Signature=abc'],
  ])('%j → %j', (raw, canonical) => {
    expect(canonicalQuery(raw)).toBe(canonical);
  });

  it('drops the excluded parameter', () => {
    expect(canonicalQuery('X-Amz-Signature=abc&X-Amz-Date=x', 'X-Amz-Signature')).toBe('X-Amz-Date=x');
  });
});

describe('uriEncode', () => {
  it.each([
    ['abc-._~XYZ09', false, 'abc-._~XYZ09'],
    ['a/b', false, 'a%2Fb'],
    ['a/b', true, 'a/b'],
    [' ', false, '%20'],
    ['é', false, '%C3%A9'],
  ])('%j (keepSlash %s) → %j', (s, keep, out) => {
    expect(uriEncode(s, keep)).toBe(out);
  });
});

describe('canonicalHeaders', () => {
  it('trims, collapses inner whitespace and joins repeated values with ","', () => {
    const h = { host: ' example.com ', 'x-amz-meta-a': '  a   b\t c ', 'x-amz-meta-m': ['1', ' 2  3 '] };
    expect(canonicalHeaders(h, ['host', 'x-amz-meta-a', 'x-amz-meta-m'])).toBe('host:example.com\nx-amz-meta-a:a b c\nx-amz-meta-m:1,2 3\n');
  });
  it('a signed header that is absent has an empty value', () => {
    expect(canonicalHeaders({}, ['range'])).toBe('range:\n');
  });

  // values as Node delivers them: each byte one latin-1 character; the result holds bytes the same way
  const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  it.each([
    ['UTF-8 stays the bytes sent', bytes('Zürich 東京'), bytes('Zürich 東京')],
    ['UTF-8 is trimmed as text (a no-break space is a blank, as signers see it)', bytes('\u00a0 Zürich\u00a0\u00a0b '), bytes('Zürich b')],
    ['a byte that is part of a UTF-8 character is no blank', bytes('à'), bytes('à')],
    ['bytes that are not UTF-8 stay, only ASCII blanks trimmed', '  Z\u00fcrich\u00a0 ', 'Z\u00fcrich\u00a0'],
  ])('%s', (_n, value, expected) => {
    expect(canonicalHeaders({ 'x-amz-meta-a': value }, ['x-amz-meta-a'])).toBe(`x-amz-meta-a:${expected}\n`);
  });
  it("the 'latin1-text' reading signs each byte's character in UTF-8 (what Node clients sign)", () => {
    expect(canonicalHeaders({ 'x-amz-meta-a': 'Z\u00fcrich' }, ['x-amz-meta-a'], 'latin1-text')).toBe(`x-amz-meta-a:${bytes('Zürich')}\n`);
  });
});

describe('canonicalRequest (AWS GET Object example)', () => {
  it('matches the documented canonical request', () => {
    const out = canonicalRequest({
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-amz-date': '20130524T000000Z',
      },
      signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    expect(out).toBe(
      'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});

describe('parseAuthorizationHeader', () => {
  const sig = 'f'.repeat(64);
  const good = { credential: { accessKeyId: 'AKID', date: '20130524', region: 'us-east-1', scope: '20130524/us-east-1/s3/aws4_request' }, signedHeaders: ['host', 'x-amz-date'], signature: sig };
  it.each([
    `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`,
    `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=${sig}`,
    `AWS4-HMAC-SHA256   Credential=AKID/20130524/us-east-1/s3/aws4_request ,  SignedHeaders=host;x-amz-date ,Signature=${sig} `,
    `AWS4-HMAC-SHA256 Signature=${sig}, Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date`,
    `AWS4-HMAC-SHA256Credential=AKID/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=${sig}`,
  ])('accepts %j', (h) => {
    expect(parseAuthorizationHeader(h)).toEqual(good);
  });

  it.each([
    ['AWS AKID:signature', 'InvalidArgument'],
    [`AWS4-ECDSA-P256-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`, 'InvalidArgument'],
    [`AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host`, 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, Signature=${sig}`, 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=AKID/2013-05-24/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`, 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${sig}`, 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=${sig}`, 'AuthorizationHeaderMalformed'],
    [`AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, junk, Signature=${sig}`, 'AuthorizationHeaderMalformed'],
  ])('rejects %j with %s', (h, code) => {
    expect(() => parseAuthorizationHeader(h)).toThrow(expect.objectContaining({ code }));
  });
});
