/**
 * Isolation: every S3 operation Erne implements × every kind of caller, each cell one real
 * signed (or anonymous) HTTP request against a running gateway, checked against ONE table
 * written here by hand (not derived from gateway/access.ts, so the two can disagree).
 *
 * Callers: root; owner (a non-root key that created the bucket); Editor and ReadOnly (non-root
 * keys given a role on the bucket with `erne keys create --bucket --role`); other (a non-root
 * key that owns another bucket); anonymous on the private bucket; anonymous on a public-read
 * bucket (created by the owner with x-amz-acl: public-read; its object `fixed` is private).
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCreate } from '../../cli/keys.js';
import { handlerFor } from '../../gateway/dispatch.js';
import { REGION, ROOT, startTestGateway, tempDir, uniqueBucket, type Creds, type TestGateway } from '../helpers/gateway.js';
import { md5Base64, parseError, parseXml, rawRequest, type RawRequest, type RawResponse } from '../helpers/raw.js';
import { REPO_ROOT } from '../helpers/child.js';

type Caller = 'root' | 'owner' | 'editor' | 'readonly' | 'other' | 'anon' | 'anonPublic';
const CALLERS: Caller[] = ['root', 'owner', 'editor', 'readonly', 'other', 'anon', 'anonPublic'];

const A = true; // allowed: the operation's own success (or its own expected error)
const D = false; // denied: 403 AccessDenied

/**
 * THE table. Columns: root, owner, Editor, ReadOnly, other bucket's key, anonymous,
 * anonymous on a public-read bucket.
 */
const MATRIX: Record<string, [boolean, boolean, boolean, boolean, boolean, boolean, boolean]> = {
  //                                root owner edit  ro   other anon  pub
  ListBuckets: /*                */ [A, A, A, A, A, D, D],
  CreateBucket: /*               */ [A, A, A, A, A, D, D],
  HeadBucket: /*                 */ [A, A, A, A, D, D, A],
  GetBucketLocation: /*          */ [A, A, A, A, D, D, D],
  ListObjects: /*                */ [A, A, A, A, D, D, A],
  ListObjectsV2: /*              */ [A, A, A, A, D, D, A],
  ListObjectVersions: /*         */ [A, A, A, A, D, D, A],
  ListMultipartUploads: /*       */ [A, A, A, A, D, D, A],
  ListParts: /*                  */ [A, A, A, A, D, D, D],
  // a public-read bucket is listable, its objects are not (their own ACL decides, as on S3)
  GetObject: /*                  */ [A, A, A, A, D, D, D],
  HeadObject: /*                 */ [A, A, A, A, D, D, D],
  GetObjectAttributes: /*        */ [A, A, A, A, D, D, D],
  GetObjectTagging: /*           */ [A, A, A, A, D, D, D],
  GetObjectAcl: /*               */ [A, A, A, A, D, D, D],
  PutObject: /*                  */ [A, A, A, D, D, D, D],
  CopyObject: /*                 */ [A, A, A, D, D, D, D],
  DeleteObject: /*               */ [A, A, A, D, D, D, D],
  DeleteObjects: /*              */ [A, A, A, D, D, D, D],
  PutObjectTagging: /*           */ [A, A, A, D, D, D, D],
  DeleteObjectTagging: /*        */ [A, A, A, D, D, D, D],
  CreateMultipartUpload: /*      */ [A, A, A, D, D, D, D],
  UploadPart: /*                 */ [A, A, A, D, D, D, D],
  UploadPartCopy: /*             */ [A, A, A, D, D, D, D],
  CompleteMultipartUpload: /*    */ [A, A, A, D, D, D, D],
  AbortMultipartUpload: /*       */ [A, A, A, D, D, D, D],
  // POST forms: the policy's signer must own the bucket (roles do not extend to forms)
  PostObject: /*                 */ [A, A, D, D, D, D, D],
  DeleteBucket: /*               */ [A, A, D, D, D, D, D],
  PutObjectAcl: /*               */ [A, A, D, D, D, D, D],
  GetBucketAcl: /*               */ [A, A, D, D, D, D, D],
  PutBucketAcl: /*               */ [A, A, D, D, D, D, D],
  GetBucketVersioning: /*        */ [A, A, D, D, D, D, D],
  PutBucketVersioning: /*        */ [A, A, D, D, D, D, D],
  GetBucketCors: /*              */ [A, A, D, D, D, D, D],
  PutBucketCors: /*              */ [A, A, D, D, D, D, D],
  DeleteBucketCors: /*           */ [A, A, D, D, D, D, D],
  GetBucketTagging: /*           */ [A, A, D, D, D, D, D],
  PutBucketTagging: /*           */ [A, A, D, D, D, D, D],
  DeleteBucketTagging: /*        */ [A, A, D, D, D, D, D],
  GetBucketLifecycleConfiguration: [A, A, D, D, D, D, D],
  PutBucketLifecycleConfiguration: [A, A, D, D, D, D, D],
  DeleteBucketLifecycle: /*      */ [A, A, D, D, D, D, D],
  PutBucketPolicy: /*            */ [A, A, D, D, D, D, D],
  GetBucketPolicy: /*            */ [A, A, D, D, D, D, D],
  DeleteBucketPolicy: /*         */ [A, A, D, D, D, D, D],
  GetBucketPolicyStatus: /*      */ [A, A, D, D, D, D, D],
  PutPublicAccessBlock: /*       */ [A, A, D, D, D, D, D],
  GetPublicAccessBlock: /*       */ [A, A, D, D, D, D, D],
  DeletePublicAccessBlock: /*    */ [A, A, D, D, D, D, D],
};

let t: TestGateway;
const keys = {} as Record<'owner' | 'editor' | 'readonly' | 'other', Creds>;
const B = uniqueBucket('iso'); // the owner's private bucket, Editor/ReadOnly roles on it
const P = uniqueBucket('iso-pub'); // the owner's public-read bucket
const O = uniqueBucket('iso-other'); // the other key's bucket
const CORS = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
const LIFECYCLE = '<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>';
const TAGS = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>';
/** a policy that changes nothing the other cells do (it denies the other key a prefix no cell uses) */
const POLICY = (bucket: string) =>
  JSON.stringify({ Statement: [{ Effect: 'Deny', Principal: { AWS: 'ISOOTHER0001' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/never/*` }] });
const PAB = '<PublicAccessBlockConfiguration><BlockPublicAcls>false</BlockPublicAcls></PublicAccessBlockConfiguration>';

function credsOf(c: Caller): Creds | null {
  if (c === 'root') return ROOT;
  if (c === 'anon' || c === 'anonPublic') return null;
  return keys[c];
}

const asRoot = (r: RawRequest) => rawRequest(t.gw, { ...r, creds: ROOT });

async function must(r: Promise<RawResponse>, what: string): Promise<RawResponse> {
  const res = await r;
  if (res.status >= 300) throw new Error(`setup ${what}: ${res.status} ${res.text}`);
  return res;
}

const withMd5 = (body: string, headers: Record<string, string> = {}) => ({ body, headers: { ...headers, 'Content-MD5': md5Base64(body) } });

async function putObj(bucket: string, key: string, body = 'data'): Promise<void> {
  await must(asRoot({ method: 'PUT', path: `/${bucket}/${key}`, body }), `put ${bucket}/${key}`);
}

async function newUpload(bucket: string, key: string): Promise<string> {
  const r = await must(asRoot({ method: 'POST', path: `/${bucket}/${key}`, query: 'uploads=' }), 'create upload');
  return String(parseXml(r.text)['UploadId']);
}

const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();

/** a browser-style POST form for `key`, its policy signed by `creds` (none: unsigned) */
function postForm(bucket: string, key: string, creds: Creds | null): RawRequest {
  const fields: Record<string, string> = { key };
  if (creds) {
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = amzDate.slice(0, 8);
    const credential = `${creds.accessKeyId}/${date}/${REGION}/s3/aws4_request`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 300_000).toISOString(),
        conditions: [{ bucket }, { key }, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }],
      }),
    ).toString('base64');
    const signingKey = hmac(hmac(hmac(hmac('AWS4' + creds.secretAccessKey, date), REGION), 's3'), 'aws4_request');
    Object.assign(fields, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate, policy, 'x-amz-signature': createHmac('sha256', signingKey).update(policy).digest('hex') });
  }
  const boundary = 'erneisolation' + createHash('md5').update(key).digest('hex');
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  const body = parts.join('') + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`;
  // the form authenticates itself: the HTTP request is never header-signed
  return { method: 'POST', path: `/${bucket}`, body, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, creds: null };
}

interface Cell {
  bucket: string;
  /** a key of this cell's own */
  key: string;
  creds: Creds | null;
  caller: Caller;
}

interface OpCase {
  /** status when allowed */
  ok: number;
  /** the S3 error code an allowed call meets (e.g. BucketNotEmpty) */
  okCode?: string;
  /** run as root before the cell's request; returns values the request needs */
  setup?: (c: Cell) => Promise<string | void>;
  req: (c: Cell, prepared: string) => RawRequest;
}

const CASES: Record<string, OpCase> = {
  ListBuckets: { ok: 200, req: () => ({ method: 'GET', path: '/' }) },
  CreateBucket: { ok: 200, req: (c) => ({ method: 'PUT', path: `/${uniqueBucket('iso-new-' + c.caller.toLowerCase())}` }) },
  HeadBucket: { ok: 200, req: (c) => ({ method: 'HEAD', path: `/${c.bucket}` }) },
  GetBucketLocation: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'location=' }) },
  ListObjects: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}` }) },
  ListObjectsV2: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'list-type=2' }) },
  ListObjectVersions: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'versions=' }) },
  ListMultipartUploads: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'uploads=' }) },
  ListParts: { ok: 200, setup: (c) => newUpload(c.bucket, c.key), req: (c, u) => ({ method: 'GET', path: `/${c.bucket}/${c.key}`, query: `uploadId=${u}` }) },
  GetObject: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}/fixed` }) },
  HeadObject: { ok: 200, req: (c) => ({ method: 'HEAD', path: `/${c.bucket}/fixed` }) },
  GetObjectAttributes: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}/fixed`, query: 'attributes', headers: { 'x-amz-object-attributes': 'ETag' } }) },
  GetObjectTagging: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}/fixed`, query: 'tagging=' }) },
  GetObjectAcl: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}/fixed`, query: 'acl=' }) },
  PutObject: { ok: 200, req: (c) => ({ method: 'PUT', path: `/${c.bucket}/${c.key}`, body: 'new bytes' }) },
  CopyObject: { ok: 200, req: (c) => ({ method: 'PUT', path: `/${c.bucket}/${c.key}`, headers: { 'x-amz-copy-source': `/${c.bucket}/fixed` } }) },
  DeleteObject: { ok: 204, setup: (c) => putObj(c.bucket, c.key), req: (c) => ({ method: 'DELETE', path: `/${c.bucket}/${c.key}` }) },
  DeleteObjects: {
    ok: 200,
    setup: (c) => putObj(c.bucket, c.key),
    req: (c) => ({ method: 'POST', path: `/${c.bucket}`, query: 'delete=', ...withMd5(`<Delete><Quiet>true</Quiet><Object><Key>${c.key}</Key></Object></Delete>`) }),
  },
  PutObjectTagging: { ok: 200, setup: (c) => putObj(c.bucket, c.key), req: (c) => ({ method: 'PUT', path: `/${c.bucket}/${c.key}`, query: 'tagging=', ...withMd5(TAGS) }) },
  DeleteObjectTagging: { ok: 204, setup: (c) => putObj(c.bucket, c.key), req: (c) => ({ method: 'DELETE', path: `/${c.bucket}/${c.key}`, query: 'tagging=' }) },
  CreateMultipartUpload: { ok: 200, req: (c) => ({ method: 'POST', path: `/${c.bucket}/${c.key}`, query: 'uploads=' }) },
  UploadPart: { ok: 200, setup: (c) => newUpload(c.bucket, c.key), req: (c, u) => ({ method: 'PUT', path: `/${c.bucket}/${c.key}`, query: `partNumber=1&uploadId=${u}`, body: 'part one' }) },
  UploadPartCopy: {
    ok: 200,
    setup: (c) => newUpload(c.bucket, c.key),
    req: (c, u) => ({ method: 'PUT', path: `/${c.bucket}/${c.key}`, query: `partNumber=1&uploadId=${u}`, headers: { 'x-amz-copy-source': `/${c.bucket}/fixed` } }),
  },
  CompleteMultipartUpload: {
    ok: 200,
    setup: async (c) => {
      const u = await newUpload(c.bucket, c.key);
      const part = await must(asRoot({ method: 'PUT', path: `/${c.bucket}/${c.key}`, query: `partNumber=1&uploadId=${u}`, body: 'only part' }), 'upload part');
      return `${u} ${String(part.headers.etag)}`;
    },
    req: (c, prepared) => {
      const [u, etag] = prepared.split(' ');
      return { method: 'POST', path: `/${c.bucket}/${c.key}`, query: `uploadId=${u}`, body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>` };
    },
  },
  AbortMultipartUpload: { ok: 204, setup: (c) => newUpload(c.bucket, c.key), req: (c, u) => ({ method: 'DELETE', path: `/${c.bucket}/${c.key}`, query: `uploadId=${u}` }) },
  PostObject: { ok: 204, req: (c) => postForm(c.bucket, c.key, c.creds) },
  // the bucket holds objects: an allowed caller meets BucketNotEmpty, a denied one AccessDenied
  DeleteBucket: { ok: 409, okCode: 'BucketNotEmpty', req: (c) => ({ method: 'DELETE', path: `/${c.bucket}` }) },
  PutObjectAcl: { ok: 200, setup: (c) => putObj(c.bucket, c.key), req: (c) => ({ method: 'PUT', path: `/${c.bucket}/${c.key}`, query: 'acl=', headers: { 'x-amz-acl': 'private' } }) },
  GetBucketAcl: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'acl=' }) },
  // the ACL each bucket already has: the public bucket stays public for the other cells
  PutBucketAcl: { ok: 200, req: (c) => ({ method: 'PUT', path: `/${c.bucket}`, query: 'acl=', headers: { 'x-amz-acl': c.bucket === P ? 'public-read' : 'private' } }) },
  GetBucketVersioning: { ok: 200, req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'versioning=' }) },
  PutBucketVersioning: {
    ok: 200,
    req: (c) => ({ method: 'PUT', path: `/${c.bucket}`, query: 'versioning=', body: '<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>' }),
  },
  GetBucketCors: { ok: 200, setup: async (c) => void (await must(asRoot({ method: 'PUT', path: `/${c.bucket}`, query: 'cors=', ...withMd5(CORS) }), 'cors')), req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'cors=' }) },
  PutBucketCors: { ok: 200, req: (c) => ({ method: 'PUT', path: `/${c.bucket}`, query: 'cors=', ...withMd5(CORS) }) },
  DeleteBucketCors: { ok: 204, req: (c) => ({ method: 'DELETE', path: `/${c.bucket}`, query: 'cors=' }) },
  GetBucketTagging: {
    ok: 200,
    setup: async (c) => void (await must(asRoot({ method: 'PUT', path: `/${c.bucket}`, query: 'tagging=', ...withMd5(TAGS) }), 'bucket tags')),
    req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'tagging=' }),
  },
  PutBucketTagging: { ok: 204, req: (c) => ({ method: 'PUT', path: `/${c.bucket}`, query: 'tagging=', ...withMd5(TAGS) }) },
  DeleteBucketTagging: { ok: 204, req: (c) => ({ method: 'DELETE', path: `/${c.bucket}`, query: 'tagging=' }) },
  GetBucketLifecycleConfiguration: {
    ok: 200,
    setup: async (c) => void (await must(asRoot({ method: 'PUT', path: `/${c.bucket}`, query: 'lifecycle=', ...withMd5(LIFECYCLE) }), 'lifecycle')),
    req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'lifecycle=' }),
  },
  PutBucketLifecycleConfiguration: { ok: 200, req: (c) => ({ method: 'PUT', path: `/${c.bucket}`, query: 'lifecycle=', ...withMd5(LIFECYCLE) }) },
  DeleteBucketLifecycle: { ok: 204, req: (c) => ({ method: 'DELETE', path: `/${c.bucket}`, query: 'lifecycle=' }) },
  PutBucketPolicy: { ok: 204, req: (c) => ({ method: 'PUT', path: `/${c.bucket}`, query: 'policy=', body: POLICY(c.bucket) }) },
  GetBucketPolicy: {
    ok: 200,
    setup: async (c) => void (await must(asRoot({ method: 'PUT', path: `/${c.bucket}`, query: 'policy=', body: POLICY(c.bucket) }), 'policy')),
    req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'policy=' }),
  },
  DeleteBucketPolicy: { ok: 204, req: (c) => ({ method: 'DELETE', path: `/${c.bucket}`, query: 'policy=' }) },
  GetBucketPolicyStatus: {
    ok: 200,
    setup: async (c) => void (await must(asRoot({ method: 'PUT', path: `/${c.bucket}`, query: 'policy=', body: POLICY(c.bucket) }), 'policy')),
    req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'policyStatus=' }),
  },
  PutPublicAccessBlock: { ok: 200, req: (c) => ({ method: 'PUT', path: `/${c.bucket}`, query: 'publicAccessBlock=', ...withMd5(PAB) }) },
  GetPublicAccessBlock: {
    ok: 200,
    setup: async (c) => void (await must(asRoot({ method: 'PUT', path: `/${c.bucket}`, query: 'publicAccessBlock=', ...withMd5(PAB) }), 'public access block')),
    req: (c) => ({ method: 'GET', path: `/${c.bucket}`, query: 'publicAccessBlock=' }),
  },
  DeletePublicAccessBlock: { ok: 204, req: (c) => ({ method: 'DELETE', path: `/${c.bucket}`, query: 'publicAccessBlock=' }) },
};

/** Every operation name the router knows, read from its source, then kept if dispatch has a handler. */
function implementedOperations(): string[] {
  const src = readFileSync(join(REPO_ROOT, 'gateway', 'router.ts'), 'utf8');
  const names = new Set([...src.matchAll(/'([A-Z][A-Za-z0-9]+)'/g)].map((m) => m[1]!));
  return [...names].filter((n) => handlerFor(n) !== undefined).sort();
}

beforeAll(async () => {
  // keys with roles are made with the CLI's own code while no gateway has the store open; the
  // key commands need a region a gateway has made, so one starts and stops first
  const dataDir = tempDir('erne-isolation-');
  await (await startTestGateway({ dataDir })).gw.close();
  const make = async (id: string, flags: Record<string, string>) => {
    const creds = { accessKeyId: id, secretAccessKey: `${id}-secret-0123456789` };
    await keysCreate({ 'access-key': creds.accessKeyId, 'secret-key': creds.secretAccessKey, json: true, 'data-dir': dataDir, region: REGION, ...flags }, () => undefined);
    return creds;
  };
  keys.owner = await make('ISOOWNER0001', {});
  keys.editor = await make('ISOEDITOR001', { bucket: B, role: 'Editor' });
  keys.readonly = await make('ISOREADONLY1', { bucket: B, role: 'readonly' });
  keys.other = await make('ISOOTHER0001', {});
  t = await startTestGateway({ dataDir });
  await must(rawRequest(t.gw, { method: 'PUT', path: `/${B}`, creds: keys.owner }), 'create B');
  await must(rawRequest(t.gw, { method: 'PUT', path: `/${P}`, creds: keys.owner, headers: { 'x-amz-acl': 'public-read' } }), 'create P');
  await must(rawRequest(t.gw, { method: 'PUT', path: `/${O}`, creds: keys.other }), 'create O');
  for (const b of [B, P, O]) await putObj(b, 'fixed', 'fixed bytes');
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

describe('isolation matrix', () => {
  it('covers exactly the operations Erne implements', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(implementedOperations());
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(MATRIX).sort());
  });

  for (const [op, row] of Object.entries(MATRIX)) {
    it(`${op}: ${CALLERS.map((c, i) => `${c} ${row[i] ? 'allow' : 'deny'}`).join(', ')}`, async () => {
      const spec = CASES[op]!;
      const got: string[] = [];
      const want: string[] = [];
      for (const [i, caller] of CALLERS.entries()) {
        const cell: Cell = { bucket: caller === 'anonPublic' ? P : B, key: `cell-${op}-${caller}`, creds: credsOf(caller), caller };
        const prepared = (await spec.setup?.(cell)) ?? '';
        const res = await rawRequest(t.gw, { creds: cell.creds, ...spec.req(cell, prepared) });
        const code = res.status >= 300 && res.text ? parseError(res.text).Code : undefined;
        got.push(`${caller}: ${res.status}${code ? ' ' + code : ''}`);
        want.push(`${caller}: ${row[i] ? `${spec.ok}${spec.okCode ? ' ' + spec.okCode : ''}` : `403${op.startsWith('Head') ? '' : ' AccessDenied'}`}`);
      }
      expect(got).toEqual(want);
    });
  }
});

describe('roles beyond single requests', () => {
  it('ListBuckets shows a key its own and its granted buckets only', async () => {
    const names = async (creds: Creds) => {
      const r = await rawRequest(t.gw, { method: 'GET', path: '/', creds });
      return [...r.text.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]!).filter((n) => [B, P, O].includes(n)).sort();
    };
    expect(await names(keys.owner)).toEqual([B, P].sort());
    expect(await names(keys.editor)).toEqual([B]);
    expect(await names(keys.readonly)).toEqual([B]);
    expect(await names(keys.other)).toEqual([O]);
    expect(await names(ROOT)).toEqual([B, P, O].sort());
  });

  it('an Editor copies within its bucket but not out of a bucket it has no role on', async () => {
    const into = (src: string) => rawRequest(t.gw, { method: 'PUT', path: `/${B}/copied-${src}`, creds: keys.editor, headers: { 'x-amz-copy-source': `/${src}/fixed` } });
    expect((await into(B)).status).toBe(200);
    const denied = await into(O);
    expect([denied.status, parseError(denied.text).Code]).toEqual([403, 'AccessDenied']);
    // and the object was not written
    expect((await rawRequest(t.gw, { method: 'HEAD', path: `/${B}/copied-${O}`, creds: ROOT })).status).toBe(404);
  });

  it('an Editor may not make an object public (x-amz-acl on a write is the owner’s call)', async () => {
    const r = await rawRequest(t.gw, { method: 'PUT', path: `/${B}/made-public`, creds: keys.editor, body: 'x', headers: { 'x-amz-acl': 'public-read' } });
    expect([r.status, parseError(r.text).Code]).toEqual([403, 'AccessDenied']);
    const ok = await rawRequest(t.gw, { method: 'PUT', path: `/${B}/kept-private`, creds: keys.editor, body: 'x', headers: { 'x-amz-acl': 'private' } });
    expect(ok.status).toBe(200);
  });

  it('a ReadOnly key reads the bytes the owner wrote; its refused writes change nothing', async () => {
    const get = await rawRequest(t.gw, { method: 'GET', path: `/${B}/fixed`, creds: keys.readonly });
    expect(get.text).toBe('fixed bytes');
    const put = await rawRequest(t.gw, { method: 'PUT', path: `/${B}/fixed`, creds: keys.readonly, body: 'overwritten' });
    expect(put.status).toBe(403);
    const del = await rawRequest(t.gw, { method: 'DELETE', path: `/${B}/fixed`, creds: keys.readonly });
    expect(del.status).toBe(403);
    expect((await rawRequest(t.gw, { method: 'GET', path: `/${B}/fixed`, creds: ROOT })).text).toBe('fixed bytes');
  });
});
