/**
 * Hostile and broken requests: fast-check mutates valid signed S3 requests (before signing:
 * odd but authentic; after: broken) and sends them over raw TCP to a real gateway.
 * Every answer must be a success or a well-formed S3 error with the catalogue's status; no
 * 5xx but NotImplemented; the gateway keeps answering; requests rejected after tampering
 * change nothing; no file appears outside the data directory.
 *
 * ERNE_FUZZ_SEED=<n> replays a run; ERNE_FUZZ_RUNS=<n> sets the number of cases (default
 * sized for about a minute here).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { breakingArb, bodyBreakingArb, mutationArb, READ_TEMPLATES, WRITE_TEMPLATES, type FuzzEnv, type Mutation, type Template } from '../helpers/fuzz-cases.js';
import { getHeader, sendRaw, serialize, signRequest, type FuzzRequest } from '../helpers/fuzz-http.js';
import { judge, type Verdict } from '../helpers/fuzz-oracle.js';
import { bodyBytes, REGION, ROOT, s3Client, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const SEED = process.env.ERNE_FUZZ_SEED ? Number(process.env.ERNE_FUZZ_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUNS = Number(process.env.ERNE_FUZZ_RUNS ?? 8000);
const REJECT_RUNS = Math.max(200, Math.floor(RUNS / 4));

let parent: string;
let t: TestGateway;
let s3: S3Client;
let host: string;
const envs: Record<'a' | 'b', FuzzEnv> = {} as Record<'a' | 'b', FuzzEnv>;
const stats = { cases: 0, crashes: 0, unexpected5xx: 0, waited: 0, labels: new Map<string, number>() };

async function seedBucket(bucket: string): Promise<FuzzEnv> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small.txt', Body: 'small object, inline', Tagging: 'a=1' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'blob.bin', Body: randomBytes(100_000) }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/n.txt', Body: 'nested', Tagging: 'b=2' }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }));
  const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId: up.UploadId, PartNumber: 1, Body: randomBytes(1000) }));
  return { bucket, uploadId: up.UploadId!, part1ETag: part.ETag!, creds: ROOT };
}

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'erne-fuzz-'));
  t = await startTestGateway({ dataDir: join(parent, 'data') });
  s3 = s3Client(t.gw);
  host = new URL(t.gw.url).host;
  envs.a = await seedBucket('fuzz-a');
  envs.b = await seedBucket('fuzz-b');
  console.log(`fuzz: seed ${SEED} (replay with ERNE_FUZZ_SEED=${SEED}), ${RUNS} + ${REJECT_RUNS} cases`);
});

afterAll(async () => {
  s3?.destroy();
  await t?.stop();
  if (parent) rmSync(parent, { recursive: true, force: true });
  const top = [...stats.labels].sort((x, y) => y[1] - x[1]).map(([l, n]) => `${l}: ${n}`).join(', ');
  console.log(`fuzz figures: ${stats.cases} cases tried, crashes ${stats.crashes}, unexpected 5xx ${stats.unexpected5xx}, ${stats.waited} waited for the client; answers: ${top}`);
});

function describeCase(tpl: Template, pre: Mutation[], post: Mutation[], r: FuzzRequest): string {
  return `${tpl.name} pre=[${pre.map((m) => m.name).join('; ')}] post=[${post.map((m) => m.name).join('; ')}] → ${r.method} ${r.path.slice(0, 120)}?${r.query.slice(0, 80)}`;
}

/**
 * builds, mutates, signs, mutates, sends one request and judges the answer. `broken`: the
 * last of `post` breaks what the signature covers, so the request must fail — unless it ends
 * up without an Authorization header (an anonymous request may read a public object) or is a
 * CORS preflight (OPTIONS is answered without authentication).
 */
async function runCase(env: FuzzEnv, tpl: Template, pre: Mutation[], post: Mutation[], broken = false): Promise<{ v: Verdict; what: string }> {
  let r = tpl.build(env);
  for (const mu of pre) mu.apply(r, env);
  r = signRequest(r, env.creds, host);
  tpl.afterSign?.(r, env);
  for (const mu of post) mu.apply(r, env);
  const truncated = [...pre, ...post].some((mu) => mu.truncates);
  const bytes = serialize(r);
  // a complete request is answered in milliseconds; one that is not (framing the server still
  // waits on, e.g. Transfer-Encoding: chunked without chunks) is ended by the client
  let o = await sendRaw(t.gw.port, bytes, r.method, { halfClose: truncated, timeoutMs: truncated ? 5000 : 1500 });
  let waited = false;
  if (o.kind === 'timeout' && !truncated) {
    waited = true;
    stats.waited++;
    o = await sendRaw(t.gw.port, bytes, r.method, { halfClose: true, timeoutMs: 5000 });
  }
  const mustFail = broken && getHeader(r, 'authorization') !== undefined && r.method.toUpperCase() !== 'OPTIONS';
  const v = judge(o, r.method, truncated || waited || [...pre, ...post].some((mu) => mu.breaksFraming), mustFail);
  stats.cases++;
  stats.labels.set(v.label, (stats.labels.get(v.label) ?? 0) + 1);
  if (v.unexpected5xx) stats.unexpected5xx++;
  return { v, what: describeCase(tpl, pre, post, r) };
}

/** the gateway still answers a plain signed request */
async function alive(): Promise<void> {
  const r = signRequest({ method: 'GET', path: '/', query: '', headers: [], body: Buffer.alloc(0), contentLength: 'auto' }, ROOT, host);
  const o = await sendRaw(t.gw.port, serialize(r), 'GET', { timeoutMs: 5000 });
  if (o.kind !== 'response' || o.res.status !== 200) {
    stats.crashes++;
    throw new Error(`the gateway stopped answering: ${JSON.stringify(o).slice(0, 300)}`);
  }
}

const propertyOptions = (numRuns: number) => ({ seed: SEED, numRuns, endOnFailure: true, interruptAfterTimeLimit: 10 * 60_000 });

it('answers every mutated request with a success or a well-formed S3 error, and keeps answering', async () => {
  const arb = fc.record({
    tpl: fc.constantFrom(...READ_TEMPLATES, ...WRITE_TEMPLATES),
    pre: fc.array(mutationArb, { maxLength: 3 }),
    post: fc.array(mutationArb, { maxLength: 2 }),
    // a third of the cases end broken after signing (reads too): those must not succeed
    brk: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: breakingArb.filter((mu) => mu.name !== 'drop authorization') },
    ),
  });
  let n = 0;
  await fc.assert(
    fc.asyncProperty(arb, async ({ tpl, pre, post, brk }) => {
      const { v, what } = await runCase(envs.a, tpl, pre, brk ? [...post, brk] : post, brk !== undefined);
      if (v.problem) throw new Error(`${v.problem}\n  case: ${what}`);
      if (++n % 250 === 0) await alive();
    }),
    propertyOptions(RUNS),
  );
  await alive();
}, 15 * 60_000);

/** everything a rejected request could have touched in bucket B */
async function snapshot(bucket: string): Promise<string> {
  const safe = async <T>(p: Promise<T>, pick: (x: T) => unknown) => p.then(pick, (e: { name?: string }) => `error ${e.name}`);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const objects = [];
  for (const v of versions.Versions ?? []) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }));
    const md5 = createHash('md5').update(await bodyBytes(got.Body)).digest('hex');
    const tags = await safe(s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId })), (x) => x.TagSet);
    const acl = await safe(s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId })), (x) => x.Grants);
    objects.push({ key: v.Key, id: v.VersionId, etag: v.ETag, size: v.Size, at: v.LastModified?.getTime(), latest: v.IsLatest, md5, tags, acl });
  }
  const markers = (versions.DeleteMarkers ?? []).map((d) => [d.Key, d.VersionId]);
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  const parts = [];
  for (const u of uploads.Uploads ?? []) {
    const p = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    parts.push({ key: u.Key, id: u.UploadId, parts: (p.Parts ?? []).map((x) => [x.PartNumber, x.ETag, x.Size]) });
  }
  const cors = await safe(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), (x) => x.CORSRules);
  const tagging = await safe(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), (x) => x.TagSet);
  const versioning = await safe(s3.send(new GetBucketVersioningCommand({ Bucket: bucket })), (x) => x.Status ?? 'never');
  const acl = await safe(s3.send(new GetBucketAclCommand({ Bucket: bucket })), (x) => x.Grants);
  return JSON.stringify({ objects, markers, parts, cors, tagging, versioning, acl }, null, 1);
}

it('changes nothing when a write is rejected after tampering', async () => {
  const before = await snapshot('fuzz-b');
  const arb = fc.record({
    tpl: fc.constantFrom(...WRITE_TEMPLATES),
    // a changed method makes another operation (HEAD, or a DELETE that reads no body), not a broken one
    pre: fc.array(mutationArb.filter((mu) => !mu.name.startsWith('method')), { maxLength: 1 }),
    extra: fc.array(mutationArb, { maxLength: 1 }),
    brk: breakingArb,
    bodyBrk: bodyBreakingArb,
    useBody: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(arb, async ({ tpl, pre, extra, brk, bodyBrk, useBody }) => {
      const hasBody = tpl.build(envs.b).body.length > 0;
      // an UNSIGNED-PAYLOAD body is not covered by the signature: changing it breaks nothing
      const bodySigned = !pre.some((mu) => mu.name.includes('UNSIGNED-PAYLOAD'));
      const post = [...extra, useBody && hasBody && bodySigned ? bodyBrk : brk];
      const { v, what } = await runCase(envs.b, tpl, pre, post, true);
      if (v.problem) throw new Error(`${v.problem}\n  case: ${what}`);
      if (!v.rejected) throw new Error(`a tampered write was accepted (${v.label})\n  case: ${what}`);
    }),
    propertyOptions(REJECT_RUNS),
  );
  await alive();
  expect(await snapshot('fuzz-b')).toBe(before);
}, 10 * 60_000);

it('counted no crash and no unexpected 5xx', () => {
  expect(stats.crashes).toBe(0);
  expect(stats.unexpected5xx).toBe(0);
});

it('refuses header values no HTTP response could carry (presigned x-amz-meta-*, response-* overrides) instead of storing them', async () => {
  const send = (method: string, path: string, body?: string) => {
    const signed = aws4.sign({ service: 's3', region: REGION, method, host, path, signQuery: true }, ROOT);
    const r = signRequest({ method, path: signed.path!.split('?')[0]!, query: signed.path!.split('?')[1] ?? '', headers: [], body: Buffer.from(body ?? ''), contentLength: 'auto' }, ROOT, host);
    // presigned: drop the header signature signRequest added
    r.headers = r.headers.filter(([n]) => !/^(authorization|x-amz-date|x-amz-content-sha256)$/i.test(n));
    return sendRaw(t.gw.port, serialize(r), method);
  };
  const put = await send('PUT', '/fuzz-a/evil-meta?x-amz-meta-evil=a%0D%0Aset-cookie%3A%20x', 'body');
  expect(put.kind === 'response' && put.res.status).toBe(400);
  expect(put.kind === 'response' && put.res.body.toString()).toContain('<Code>InvalidArgument</Code>');
  const head = await send('HEAD', '/fuzz-a/evil-meta');
  expect(head.kind === 'response' && head.res.status).toBe(404);
  const get = await send('GET', '/fuzz-b/small.txt?response-content-type=text%2Fplain%0D%0Ax%3Ay');
  expect(get.kind === 'response' && get.res.status).toBe(400);
});

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    out.push(p);
    if (statSync(p).isDirectory()) walk(p, out);
  }
  return out;
}

it('writes nothing outside the data directory, whatever the key', async () => {
  // the fuzz above already sent '..' keys; these go through the SDK's own encoding too
  for (const key of ['../../escape', '../escape', '..', 'a/../../escape', '/../../escape']) {
    await s3.send(new PutObjectCommand({ Bucket: 'fuzz-a', Key: key, Body: randomBytes(40_000) }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'fuzz-a', Key: key }));
    expect((await bodyBytes(got.Body)).length).toBe(40_000);
  }
  expect(readdirSync(parent)).toEqual(['data']);
  const files = walk(join(parent, 'data'));
  expect(files.filter((p) => /escape/.test(p))).toEqual([]);
  const volume = readdirSync(join(parent, 'data', 'volume')).sort();
  for (const entry of volume) expect(['blobs', 'remote-cache', 'tmp']).toContain(entry);
  const blobNames = walk(join(parent, 'data', 'volume', 'blobs')).filter((p) => statSync(p).isFile());
  for (const p of blobNames) expect(p.split('/').pop()).toMatch(/^[0-9a-f]{24}$/);
});
