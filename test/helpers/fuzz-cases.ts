/**
 * What the fuzzer sends: valid S3 requests (templates) and the ways it breaks them
 * (mutations), as fast-check arbitraries. A mutation applied before signing makes a request
 * that still authenticates; applied after, one whose signature no longer matches (or whose
 * framing is broken).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { Creds } from './gateway.js';
import { chunkedBody, chunkedLength, getHeader, removeHeader, setHeader, type FuzzRequest } from './fuzz-http.js';

export interface FuzzEnv {
  bucket: string;
  /** an open multipart upload of `mp.bin` in the bucket, with part 1 uploaded */
  uploadId: string;
  part1ETag: string;
  creds: Creds;
}

export interface Template {
  name: string;
  /** changes state when it succeeds */
  writes: boolean;
  build(env: FuzzEnv): FuzzRequest;
  /** builds the body once the request is signed (aws-chunked chunk signatures) */
  afterSign?(req: FuzzRequest, env: FuzzEnv): void;
}

export interface Mutation {
  name: string;
  apply(req: FuzzRequest, env: FuzzEnv): void;
  /** the body sent is shorter than declared: the client half-closes and may get no answer */
  truncates?: boolean;
  /** breaks the HTTP body framing itself (Transfer-Encoding): the connection may be cut unanswered, as node does */
  breaksFraming?: boolean;
}

const md5b64 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');
const req = (method: string, path: string, query = '', headers: Array<[string, string]> = [], body: Buffer | string = ''): FuzzRequest => ({
  method,
  path,
  query,
  headers,
  body: Buffer.from(body),
  contentLength: 'auto',
});
const xmlDoc = (s: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${s}`;
const ct: [string, string] = ['Content-Type', 'application/xml'];

const deleteXml = (keys: string[]) => xmlDoc(`<Delete>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`);
const taggingXml = xmlDoc('<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>');
const corsXml = xmlDoc('<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>');

/** requests that change state when they succeed; the rejected-batch property uses only these */
export const WRITE_TEMPLATES: Template[] = [
  { name: 'PutObject', writes: true, build: (e) => req('PUT', `/${e.bucket}/small.txt`, '', [['Content-Type', 'text/plain']], 'overwritten by the fuzzer') },
  { name: 'PutObjectMd5', writes: true, build: (e) => req('PUT', `/${e.bucket}/blob.bin`, '', [['Content-MD5', md5b64('x'.repeat(300))]], 'x'.repeat(300)) },
  { name: 'DeleteObject', writes: true, build: (e) => req('DELETE', `/${e.bucket}/small.txt`) },
  { name: 'DeleteObjects', writes: true, build: (e) => { const b = deleteXml(['small.txt', 'blob.bin']); return req('POST', `/${e.bucket}`, 'delete', [ct, ['Content-MD5', md5b64(b)]], b); } },
  { name: 'PutObjectTagging', writes: true, build: (e) => req('PUT', `/${e.bucket}/small.txt`, 'tagging', [ct], taggingXml) },
  { name: 'DeleteObjectTagging', writes: true, build: (e) => req('DELETE', `/${e.bucket}/dir/n.txt`, 'tagging') },
  { name: 'PutBucketCors', writes: true, build: (e) => req('PUT', `/${e.bucket}`, 'cors', [ct, ['Content-MD5', md5b64(corsXml)]], corsXml) },
  { name: 'PutBucketTagging', writes: true, build: (e) => req('PUT', `/${e.bucket}`, 'tagging', [ct], taggingXml) },
  { name: 'PutBucketVersioning', writes: true, build: (e) => req('PUT', `/${e.bucket}`, 'versioning', [ct], xmlDoc('<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>')) },
  { name: 'PutObjectAcl', writes: true, build: (e) => req('PUT', `/${e.bucket}/small.txt`, 'acl', [['x-amz-acl', 'public-read']]) },
  { name: 'CreateMultipartUpload', writes: true, build: (e) => req('POST', `/${e.bucket}/mp2.bin`, 'uploads') },
  { name: 'UploadPart', writes: true, build: (e) => req('PUT', `/${e.bucket}/mp.bin`, `partNumber=2&uploadId=${encodeURIComponent(e.uploadId)}`, [], 'part two bytes') },
  {
    name: 'CompleteMultipartUpload',
    writes: true,
    build: (e) => req('POST', `/${e.bucket}/mp.bin`, `uploadId=${encodeURIComponent(e.uploadId)}`, [ct], xmlDoc(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e.part1ETag}</ETag></Part></CompleteMultipartUpload>`)),
  },
  { name: 'AbortMultipartUpload', writes: true, build: (e) => req('DELETE', `/${e.bucket}/mp.bin`, `uploadId=${encodeURIComponent(e.uploadId)}`) },
  { name: 'CopyObject', writes: true, build: (e) => req('PUT', `/${e.bucket}/copy.bin`, '', [['x-amz-copy-source', `/${e.bucket}/blob.bin`]]) },
  {
    name: 'ChunkedPut',
    writes: true,
    build: (e) => {
      const data = Buffer.alloc(3000, 'c');
      return {
        ...req('PUT', `/${e.bucket}/small.txt`, '', [
          ['Content-Encoding', 'aws-chunked'],
          ['X-Amz-Content-Sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'],
          ['X-Amz-Decoded-Content-Length', String(data.length)],
        ]),
        body: data,
        contentLength: String(chunkedLength(data.length, 1024)),
      };
    },
    afterSign(r, e) {
      r.body = chunkedBody(r.body, 1024, getHeader(r, 'authorization') ?? '', getHeader(r, 'x-amz-date') ?? '', e.creds);
    },
  },
];

export const READ_TEMPLATES: Template[] = [
  { name: 'ListBuckets', writes: false, build: () => req('GET', '/') },
  { name: 'GetObject', writes: false, build: (e) => req('GET', `/${e.bucket}/blob.bin`) },
  { name: 'HeadObject', writes: false, build: (e) => req('HEAD', `/${e.bucket}/small.txt`) },
  { name: 'GetRange', writes: false, build: (e) => req('GET', `/${e.bucket}/blob.bin`, '', [['Range', 'bytes=10-99']]) },
  { name: 'ListObjectsV2', writes: false, build: (e) => req('GET', `/${e.bucket}`, 'list-type=2&max-keys=2&prefix=d') },
  { name: 'ListObjects', writes: false, build: (e) => req('GET', `/${e.bucket}`, 'marker=a&delimiter=%2F') },
  { name: 'ListObjectVersions', writes: false, build: (e) => req('GET', `/${e.bucket}`, 'versions') },
  { name: 'ListMultipartUploads', writes: false, build: (e) => req('GET', `/${e.bucket}`, 'uploads') },
  { name: 'ListParts', writes: false, build: (e) => req('GET', `/${e.bucket}/mp.bin`, `uploadId=${encodeURIComponent(e.uploadId)}`) },
  { name: 'GetObjectTagging', writes: false, build: (e) => req('GET', `/${e.bucket}/small.txt`, 'tagging') },
  { name: 'HeadBucket', writes: false, build: (e) => req('HEAD', `/${e.bucket}`) },
  { name: 'GetBucketAcl', writes: false, build: (e) => req('GET', `/${e.bucket}`, 'acl') },
  { name: 'GetBucketCors', writes: false, build: (e) => req('GET', `/${e.bucket}`, 'cors') },
];

// ---- mutations ---------------------------------------------------------------------------

const HOSTILE_KEYS = [
  '..', '../../escape', '..%2F..%2Fescape', '%2e%2e/%2e%2e/escape', '%2E%2E%2F%2E%2E%2Fescape', 'a/../../../escape', 'a%00b', '%00', '%C0%AF',
  '%FF%FE', '%', '%G1', '%E2%82', 'a//b', '//', '%F0%9F%92%A9', '%23frag', 'a%20b', '+plus+', '~tilde', '.', './x',
  'x'.repeat(1025), 'y'.repeat(1024), 'z'.repeat(6000), '%ED%A0%80', '%EF%BF%BF', '%0D%0Aset-cookie:x', '%5C..%5Cescape',
];
const HOSTILE_BUCKETS = ['UPPER', 'a', '..', '%2e%2e', 'xn--abc', '192.168.0.1', 'b'.repeat(64), 'bad_name', '-x', '%00', '%FF'];

const HOSTILE_QUERIES = [
  'max-keys=1&max-keys=2', 'list-type=2&max-keys=-1', 'list-type=2&max-keys=abc', 'list-type=2&max-keys=99999999999999999999', 'max-keys=1e3',
  'list-type=3', 'list-type=2&continuation-token=garbage', 'list-type=2&continuation-token=%FF%FE', 'encoding-type=bad', 'prefix=%FF',
  'delimiter=' + 'd'.repeat(5000), 'marker=' + 'm'.repeat(20000), 'torrent', 'select&select-type=2', 'foo', 'versionId=garbage', 'versionId=',
  'versionId=null', 'partNumber=0', 'partNumber=-1', 'partNumber=10001', 'partNumber=abc', 'partNumber=1.5', 'uploadId=../..', 'uploadId=%00',
  'uploads&uploadId=x', 'delete', 'acl&tagging&cors', 'response-content-type=%0D%0Ax:y', 'response-expires=garbage', 'x-id=GetObject',
  'X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Credential=%2F%2F%2F', 'X-Amz-Signature=00', 'AWSAccessKeyId=x&Signature=y', 'max-uploads=-5',
  'part-number-marker=abc', 'max-parts=0', 'key-marker=%FF&upload-id-marker=x', 'version-id-marker=bad&key-marker=a', 'fetch-owner=maybe',
  'start-after=' + 's'.repeat(2000),
  ...['prefix', 'marker', 'start-after', 'key-marker', 'version-id-marker', 'upload-id-marker', 'uploadId', 'versionId', 'continuation-token', 'delimiter'].map((n) => `${n}=${'q'.repeat(5000)}`),
  'versions&key-marker=a&version-id-marker=' + 'v'.repeat(3000), 'uploads&prefix=' + 'p'.repeat(1100), 'list-type=2&prefix=' + 'p'.repeat(1025), '%FF=%FF', '=', '&&&', 'a=b=c', 'a%=1', 'versioning&versioning',
];

const HOSTILE_HEADERS: Array<[string, string]> = [
  ['Range', 'bytes='], ['Range', 'bytes=5-1'], ['Range', 'bytes=-0'], ['Range', 'bytes=0-0,2-3'], ['Range', 'bytes=99999999999999999999-'],
  ['Range', 'items=0-1'], ['Range', 'bytes=abc'], ['Range', 'bytes=-99999999999999999999'], ['Range', 'bytes=100000000-'],
  ['If-Modified-Since', 'garbage'], ['If-Unmodified-Since', 'Thu, 01 Jan 1970 00:00:00 GMT'], ['If-Match', 'garbage'], ['If-None-Match', '*'],
  ['If-Match', '"' + 'e'.repeat(3000) + '"'], ['x-amz-content-sha256', 'garbage'], ['x-amz-content-sha256', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'],
  ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'], ['x-amz-content-sha256', 'UNSIGNED-PAYLOAD'], ['x-amz-content-sha256', 'unsigned-payload'],
  ['x-amz-content-sha256', '0'.repeat(64)], ['Content-MD5', 'garbage'], ['Content-MD5', md5b64('other')], ['x-amz-checksum-crc32', 'AAAAAA=='],
  ['x-amz-checksum-crc32', 'not base64'], ['x-amz-checksum-sha256', 'AAAA'], ['x-amz-sdk-checksum-algorithm', 'MD4'], ['x-amz-trailer', 'x-amz-checksum-crc32'],
  ['x-amz-copy-source', '/'], ['x-amz-copy-source', '../../etc/passwd'], ['x-amz-copy-source', '%FF'], ['x-amz-copy-source', 'bucketonly'],
  ['x-amz-copy-source', '/nosuchbucket/k?versionId=x'], ['x-amz-copy-source', `/${'c'.repeat(5000)}/k`], ['x-amz-copy-source', `/fuzz-a/${'k'.repeat(5000)}`],
  ['x-amz-copy-source', `/fuzz-a/small.txt?versionId=${'v'.repeat(5000)}`], ['x-amz-copy-source', '/fuzz-a/small.txt?versionId=null'], ['x-amz-copy-source-range', 'bytes=9-1'], ['x-amz-metadata-directive', 'BOGUS'],
  ['x-amz-tagging', '%%%=&&='], ['x-amz-tagging', 'k=' + 'v'.repeat(300)], ['x-amz-acl', 'bogus'], ['x-amz-storage-class', 'DIAMOND'],
  ['Expect', '100-continue'], ['Expect', 'bogus'], ['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'gzip, chunked'], ['Transfer-Encoding', 'bogus'],
  ['x-amz-decoded-content-length', '-1'], ['x-amz-decoded-content-length', 'abc'], ['Content-Encoding', 'aws-chunked'],
  ['x-amz-meta-big', 'm'.repeat(3000)], ['x-amz-meta-' + 'n'.repeat(100), 'v'], ['x-amz-server-side-encryption', 'AES256'],
  ['x-amz-object-lock-mode', 'GOVERNANCE'], ['x-amz-website-redirect-location', '/x'], ['x-amz-bucket-object-lock-enabled', 'true'],
  ['Origin', 'http://evil.example'], ['x-amz-security-token', 'tok'], ['x-amz-expected-bucket-owner', '123'], ['Content-Type', '\u0001'],
  ['Host', 'evil.example'], ['Host', ''], ['x-amz-date', 'garbage'], ['x-amz-date', '19700101T000000Z'], ['x-amz-date', '30000101T000000Z'],
  ['Date', 'garbage'], ['Authorization', 'AWS4-HMAC-SHA256'], ['Authorization', 'AWS x:y'], ['Authorization', 'Bearer t'],
  ['Authorization', 'AWS4-HMAC-SHA256 Credential=ERNETESTROOT00000001/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00'],
  ['x-amz-write-offset-bytes', '5'], ['x-amz-mp-parts-count', 'x'], ['Cache-Control', 'c'.repeat(9000)],
];
const CONTENT_LENGTHS = ['-1', 'abc', '1e3', '99999999999999999999', '5368709121', ' 10', '0x10', '', '0, 0', '+5'];
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'TRACE', 'FOO', 'get', 'PROPFIND', 'M-SEARCH'];

const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
const laughs =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>' +
  '<Delete><Object><Key>&lol4;</Key></Object></Delete>';
const XML_BODIES: Array<() => Buffer | string> = [
  () => '<Delete><Object><Key>a</Key></Object>',
  () => '<Delete><Object><Key>a</Key></Obj></Delete>',
  () => nest(20_000),
  () => `<Delete>${nest(3000)}</Delete>`,
  () => laughs,
  () => '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Tagging><TagSet><Tag><Key>&e;</Key><Value>v</Value></Tag></TagSet></Tagging>',
  () => Buffer.alloc(1024 * 1024 + 10, 'x'),
  () => `<Delete>${'<Object><Key>k</Key></Object>'.repeat(40_000)}</Delete>`,
  () => deleteXml(Array.from({ length: 1001 }, (_, i) => `k${i}`)),
  () => deleteXml(['../../escape', '', 'x'.repeat(2000)]),
  () => '<Delete><Object></Object></Delete>',
  () => Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0xc0, 0xaf, 0x3c, 0x2f, 0x61, 0x3e]),
  () => '<Tagging><TagSet><Tag><Key>&#0;</Key><Value>&#xFFFFFFFF;</Value></Tag></TagSet></Tagging>',
  () => '<Tagging><TagSet><Tag><Key><![CDATA[k]]></Key><Value>v</Value></Tag></TagSet></Tagging>',
  () => '<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
  () => '<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>',
  () => '<CORSConfiguration>' + '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>BREW</AllowedMethod></CORSRule>'.repeat(200) + '</CORSConfiguration>',
  () => '<VersioningConfiguration><Status>Maybe</Status></VersioningConfiguration>',
  () => '<LifecycleConfiguration><Rule><Expiration><Days>-1</Days></Expiration></Rule></LifecycleConfiguration>',
  () => '<Wrong/>',
  () => '',
  () => '<a xmlns:x="y" x:b="c">' + 'é'.repeat(1000) + '</a>',
];

function setPathKey(r: FuzzRequest, key: string): void {
  const segs = r.path.split('/');
  r.path = segs.length > 2 ? `/${segs[1]}/${key}` : `${r.path.replace(/\/$/, '')}/${key}`;
}

function chunkFrame(r: FuzzRequest, how: number): void {
  const before = r.body.length;
  reframe(r, how);
  // keep the declared length honest: the framing inside is what is broken
  if (r.contentLength === String(before)) r.contentLength = String(r.body.length);
}

function reframe(r: FuzzRequest, how: number): void {
  const s = r.body.toString('latin1');
  const nl = s.indexOf('\r\n');
  if (nl < 0) return;
  const [size, ...ext] = s.slice(0, nl).split(';');
  const frames = ['zz', '-1', 'ffffffffffffffff', '100000000', '', size + '0', '0'];
  if (how < frames.length) r.body = Buffer.from([frames[how], ...ext].join(';') + s.slice(nl), 'latin1');
  else if (how === frames.length) r.body = Buffer.from(s.replace(/chunk-signature=([0-9a-f])/, (_m, c: string) => `chunk-signature=${c === '0' ? '1' : '0'}`), 'latin1');
  else r.body = Buffer.from(s.replace(/0;chunk-signature=[0-9a-f]{64}\r\n\r\n$/, ''), 'latin1');
}

const m = (name: string, apply: Mutation['apply'], truncates = false): Mutation => ({ name, apply, truncates, breaksFraming: /transfer-encoding/i.test(name) });

/** any mutation: before signing they make odd but authentic requests, after signing broken ones */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(...METHODS).map((x) => m(`method ${x}`, (r) => void (r.method = x))),
  fc.constantFrom(...HOSTILE_KEYS).map((k) => m(`key ${k.slice(0, 40)}`, (r) => setPathKey(r, k))),
  fc.constantFrom(...HOSTILE_BUCKETS).map((b) => m(`bucket ${b.slice(0, 20)}`, (r) => void (r.path = r.path.replace(/^\/[^/]*/, `/${b}`)))),
  fc.constantFrom('//', '/', '*', 'noslash', 'absolute', '/./', '/../').map((p) =>
    m(`path ${p}`, (r) => {
      if (p === '//') r.path = '/' + r.path;
      else if (p === 'noslash') r.path = r.path.slice(1) || 'x';
      else if (p === 'absolute') r.path = `http://127.0.0.1${r.path}`;
      else if (p === '/./' || p === '/../') r.path = r.path.replace(/^\/([^/]*)/, `/$1${p.slice(0, -1)}`);
      else r.path = p;
    }),
  ),
  fc.constantFrom(...HOSTILE_QUERIES).map((q) => m(`query ${q.slice(0, 40)}`, (r) => void (r.query = r.query ? `${r.query}&${q}` : q))),
  fc.constantFrom(...HOSTILE_QUERIES).map((q) => m(`query= ${q.slice(0, 40)}`, (r) => void (r.query = q))),
  fc.string({ maxLength: 40 }).map((q) => m(`query random ${JSON.stringify(q)}`, (r) => void (r.query = encodeURI(q)))),
  fc.constantFrom(...HOSTILE_HEADERS).map(([n, v]) => m(`header ${n}: ${v.slice(0, 30)}`, (r) => setHeader(r, n, v))),
  fc.constantFrom(...HOSTILE_HEADERS).map(([n, v]) => m(`add header ${n}: ${v.slice(0, 30)}`, (r) => void r.headers.push([n, v]))),
  fc.nat().map((i) => m(`duplicate header #${i}`, (r) => { const h = r.headers[i % Math.max(1, r.headers.length)]; if (h) r.headers.push([h[0], h[1] + 'x']); })),
  fc.nat().map((i) => m(`repeat header #${i}`, (r) => { const h = r.headers[i % Math.max(1, r.headers.length)]; if (h) r.headers.push([...h]); })),
  fc.constantFrom('host', 'authorization', 'x-amz-date', 'x-amz-content-sha256', 'content-length', 'content-type', 'content-md5', 'x-amz-decoded-content-length').map((n) =>
    m(`remove ${n}`, (r) => { removeHeader(r, n); if (n === 'content-length') r.contentLength = 'omit'; }),
  ),
  fc.integer({ min: 1000, max: 40_000 }).map((n) => m(`huge header ${n}`, (r) => void r.headers.push(['x-fuzz-big', 'h'.repeat(n)]))),
  fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 30 })).map(([n, v]) => m(`raw header ${JSON.stringify(n)}`, (r) => void r.headers.push([n, v]))),
  fc.constantFrom(...CONTENT_LENGTHS).map((v) => m(`content-length ${v}`, (r) => void (r.contentLength = v))),
  fc.integer({ min: 1, max: 5000 }).map((n) => m(`content-length +${n}`, (r) => void (r.contentLength = String(r.body.length + n)), true)),
  fc.integer({ min: 0, max: XML_BODIES.length - 1 }).map((i) => m(`xml body #${i}`, (r) => { r.body = Buffer.from(XML_BODIES[i]!()); removeHeader(r, 'content-md5'); })),
  fc.nat().map((i) => m(`flip body byte ${i}`, (r) => { if (r.body.length) { r.body = Buffer.from(r.body); r.body[i % r.body.length]! ^= 0x20; } })),
  fc.nat().map((i) => m(`truncate body ${i}`, (r) => { if (r.body.length) { r.contentLength = String(r.body.length); r.body = r.body.subarray(0, i % r.body.length); } }, true)),
  fc.integer({ min: 1, max: 100 }).map((n) => m(`append ${n} bytes`, (r) => void (r.body = Buffer.concat([r.body, Buffer.alloc(n, 'A')])))),
  fc.integer({ min: 0, max: 8 }).map((i) => m(`chunk framing #${i}`, (r) => chunkFrame(r, i))),
);

/** after signing, these always change something the signature covers or the body's integrity */
export const breakingArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant(m('corrupt signature', (r) => corruptSignature(r))),
  fc.constant(m('drop authorization', (r) => removeHeader(r, 'authorization'))),
  fc.constant(m('tamper path', (r) => void (r.path += 'x'))),
  fc.constant(m('tamper query', (r) => void (r.query = r.query ? `${r.query}&x-fuzz=1` : 'x-fuzz=1'))),
  // no template is signed as PATCH, so this differs from the signed method whatever came before
  fc.constant(m('tamper method', (r) => void (r.method = 'PATCH'))),
  fc.constant(m('shift date', (r) => { const d = getHeader(r, 'x-amz-date') ?? ''; setHeader(r, 'X-Amz-Date', d.replace(/\d(?=Z$)/, (c) => String((Number(c) + 1) % 10))); })),
  fc.constant(m('swap payload hash', (r) => setHeader(r, 'X-Amz-Content-Sha256', getHeader(r, 'x-amz-content-sha256') === 'UNSIGNED-PAYLOAD' ? 'e'.repeat(64) : 'UNSIGNED-PAYLOAD'))),
);

function corruptSignature(r: FuzzRequest): void {
  const a = getHeader(r, 'authorization') ?? '';
  setHeader(r, 'Authorization', a.slice(0, -1) + (a.endsWith('0') ? '1' : '0'));
}

/** body breakers, for templates that send a body (an emptied body gets a corrupt signature instead) */
export const bodyBreakingArb: fc.Arbitrary<Mutation> = fc.oneof(
  // a letter or digit: aws-chunked framing tolerates a changed CR or blank (signatures cover the data, not the line ends)
  fc.nat().map((i) => m(`flip body byte ${i}`, (r) => {
    if (!r.body.length) return corruptSignature(r);
    r.body = Buffer.from(r.body);
    let at = i % r.body.length;
    for (let n = 0; n < r.body.length && !/[0-9A-Za-z]/.test(String.fromCharCode(r.body[at]!)); n++) at = (at + 1) % r.body.length;
    r.body[at]! ^= 0x01;
  })),
  fc.nat().map((i) => m(`truncate body ${i}`, (r) => { if (!r.body.length) return corruptSignature(r); r.contentLength = String(r.body.length); r.body = r.body.subarray(0, i % r.body.length); }, true)),
  fc.integer({ min: 0, max: 8 }).map((i) => m(`chunk framing #${i}`, (r) => {
    if (!r.body.length) return corruptSignature(r);
    const before = r.body;
    if (getHeader(r, 'content-encoding')) chunkFrame(r, i);
    // a body that is not really aws-chunked has no framing to break: flip a byte instead
    if (r.body.equals(before)) { r.body = Buffer.from(r.body); r.body[0]! ^= 0x01; }
  })),
);
