/**
 * Shadow buckets against a real second S3 server (another Erne, in this process) behind a
 * counting proxy, with the shadow bucket on `erne serve` as a child process (SIGKILLed in the
 * migration test), set up and driven by the `erne storage` CLI through the admin API, read and
 * written with @aws-sdk/client-s3.
 */
import { createHash } from 'node:crypto';
import { CopyObjectCommand, CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { startCountProxy, type CountProxy } from '../helpers/count-proxy.js';
import { bodyBytes, ROOT, s3Client, sdkError, startTestGateway, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { erneAt } from '../helpers/storage-app.js';
import { waitFor } from '../helpers/wait.js';

let source: TestGateway;
let proxy: CountProxy;
let g: ChildGateway;
let src: S3Client;
let here: S3Client;
let srcBucket: string;

const erne = (args: string[]) => erneAt(g.url, args);
const shadowArgs = (bucket: string, more: string[] = []) => [
  '--shadow-endpoint', proxy.url, '--shadow-bucket', bucket, '--shadow-access-key', ROOT.accessKeyId, '--shadow-secret-key', ROOT.secretAccessKey, ...more,
];

async function shadowBucket(more: string[] = []): Promise<string> {
  const name = uniqueBucket('shadow');
  const r = await erne(['storage', 'create', '-n', name, ...shadowArgs(srcBucket, more)]);
  expect(r.code, r.stderr).toBe(0);
  return name;
}

async function text(c: S3Client, bucket: string, key: string): Promise<string> {
  const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await bodyBytes(r.Body)).toString();
}

async function keys(c: S3Client, bucket: string, pageSize: number, extra: { Prefix?: string } = {}): Promise<{ key: string; etag?: string }[]> {
  const out: { key: string; etag?: string }[] = [];
  for await (const page of paginateListObjectsV2({ client: c, pageSize }, { Bucket: bucket, ...extra })) {
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, ...(o.ETag ? { etag: o.ETag } : {}) });
  }
  return out;
}

beforeAll(async () => {
  source = await startTestGateway();
  proxy = await startCountProxy(source.gw.url);
  g = await startChildGateway();
  src = s3Client(source.gw);
  here = s3Client(g);
  srcBucket = uniqueBucket('src');
  await src.send(new CreateBucketCommand({ Bucket: srcBucket }));
});
afterAll(async () => {
  src?.destroy();
  here?.destroy();
  await g?.stop();
  await proxy?.close();
  await source?.stop();
});

describe('a shadow bucket', () => {
  it('serves an object of the source on its first GET and HEAD, with the same bytes, ETag and metadata, and keeps it', async () => {
    const body = Buffer.alloc(300_000, 'x');
    for (const key of ['first/get.bin', 'first/head.bin']) {
      await src.send(new PutObjectCommand({ Bucket: srcBucket, Key: key, Body: body, ContentType: 'application/x-test', Metadata: { origin: 'source' } }));
    }
    const name = await shadowBucket();
    const at = await src.send(new HeadObjectCommand({ Bucket: srcBucket, Key: 'first/get.bin' }));

    const got = await here.send(new GetObjectCommand({ Bucket: name, Key: 'first/get.bin' }));
    expect(createHash('md5').update(await bodyBytes(got.Body)).digest('hex')).toBe(createHash('md5').update(body).digest('hex'));
    expect(got.ETag).toBe(at.ETag);
    expect(got.ContentType).toBe('application/x-test');
    expect(got.Metadata).toEqual({ origin: 'source' });

    const head = await here.send(new HeadObjectCommand({ Bucket: name, Key: 'first/head.bin' }));
    expect(head.ETag).toBe(at.ETag);
    expect(head.ContentLength).toBe(body.length);
    expect(head.Metadata).toEqual({ origin: 'source' });

    // gone from the source: both are still served, from here
    for (const key of ['first/get.bin', 'first/head.bin']) await src.send(new DeleteObjectCommand({ Bucket: srcBucket, Key: key }));
    const before = proxy.count('GET', `/${srcBucket}/first/get.bin`);
    const again = await here.send(new GetObjectCommand({ Bucket: name, Key: 'first/get.bin' }));
    expect((await bodyBytes(again.Body)).length).toBe(body.length);
    expect(again.ETag).toBe(at.ETag);
    expect((await here.send(new HeadObjectCommand({ Bucket: name, Key: 'first/head.bin' }))).ETag).toBe(at.ETag);
    expect(proxy.count('GET', `/${srcBucket}/first/get.bin`)).toBe(before);
    // a key neither has is NoSuchKey
    expect((await sdkError(here.send(new GetObjectCommand({ Bucket: name, Key: 'first/none' })))).name).toBe('NoSuchKey');
  });

  it('fetches a key from the source once under concurrent misses', async () => {
    const body = Buffer.alloc(2_000_000, 'c');
    await src.send(new PutObjectCommand({ Bucket: srcBucket, Key: 'busy.bin', Body: body }));
    const name = await shadowBucket();
    const reads = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2 ? here.send(new HeadObjectCommand({ Bucket: name, Key: 'busy.bin' })).then((h) => h.ContentLength) : here.send(new GetObjectCommand({ Bucket: name, Key: 'busy.bin' })).then(async (r) => (await bodyBytes(r.Body)).length),
      ),
    );
    expect(reads).toEqual(Array(8).fill(body.length));
    // a ranged read of a key not yet here is answered from the copy
    await src.send(new PutObjectCommand({ Bucket: srcBucket, Key: 'ranged.txt', Body: '0123456789' }));
    const part = await here.send(new GetObjectCommand({ Bucket: name, Key: 'ranged.txt', Range: 'bytes=2-4' }));
    expect((await bodyBytes(part.Body)).toString()).toBe('234');
    expect(part.ContentRange).toBe('bytes 2-4/10');
    expect(proxy.count('GET', `/${srcBucket}/busy.bin`)).toBe(1);
  });

  it('lists what is here and what the source holds, page by page, what is here winning on the same key', async () => {
    const list = uniqueBucket('src-list');
    await src.send(new CreateBucketCommand({ Bucket: list }));
    for (const k of ['a/1', 'a/3', 'b', 'd/x']) await src.send(new PutObjectCommand({ Bucket: list, Key: k, Body: `source ${k}` }));
    const name = uniqueBucket('shadow-list');
    expect((await erne(['storage', 'create', '-n', name, ...shadowArgs(list)])).code).toBe(0);
    for (const k of ['a/2', 'a/3', 'c']) await here.send(new PutObjectCommand({ Bucket: name, Key: k, Body: `here ${k}!` }));
    const localA3 = await here.send(new HeadObjectCommand({ Bucket: name, Key: 'a/3' }));
    for (const size of [1, 2, 1000]) {
      const all = await keys(here, name, size);
      expect(all.map((e) => e.key)).toEqual(['a/1', 'a/2', 'a/3', 'b', 'c', 'd/x']);
      expect(all.find((e) => e.key === 'a/3')!.etag).toBe(localA3.ETag);
    }
    const byDir = await here.send(new ListObjectsV2Command({ Bucket: name, Delimiter: '/' }));
    expect((byDir.CommonPrefixes ?? []).map((p) => p.Prefix)).toEqual(['a/', 'd/']);
    expect((byDir.Contents ?? []).map((c) => c.Key)).toEqual(['b', 'c']);
    expect((await keys(here, name, 1, { Prefix: 'a/' })).map((e) => e.key)).toEqual(['a/1', 'a/2', 'a/3']);
  });

  it('with write-through, PUTs and DELETEs reach the source; a source that is down makes the PUT a 503 that says so', async () => {
    const name = await shadowBucket(['--shadow-write-through']);
    await here.send(new PutObjectCommand({ Bucket: name, Key: 'wt/new.txt', Body: 'written here', ContentType: 'text/plain', Metadata: { who: 'app' } }));
    expect(await text(src, srcBucket, 'wt/new.txt')).toBe('written here');
    const there = await src.send(new HeadObjectCommand({ Bucket: srcBucket, Key: 'wt/new.txt' }));
    expect(there.ContentType).toBe('text/plain');
    expect(there.Metadata).toEqual({ who: 'app' });
    await here.send(new CopyObjectCommand({ Bucket: name, Key: 'wt/copy.txt', CopySource: `${name}/wt/new.txt` }));
    expect(await text(src, srcBucket, 'wt/copy.txt')).toBe('written here');
    await here.send(new DeleteObjectCommand({ Bucket: name, Key: 'wt/new.txt' }));
    expect((await sdkError(src.send(new HeadObjectCommand({ Bucket: srcBucket, Key: 'wt/new.txt' })))).status).toBe(404);

    const down = uniqueBucket('shadow-down');
    const r = await erne(['storage', 'create', '-n', down, '--shadow-endpoint', 'http://127.0.0.1:9', '--shadow-bucket', srcBucket, '--shadow-access-key', 'K', '--shadow-secret-key', 'S', '--shadow-write-through']);
    expect(r.code, r.stderr).toBe(0);
    // (the test client makes one attempt: an app's SDK would retry the 503)
    const e = await sdkError(here.send(new PutObjectCommand({ Bucket: down, Key: 'k', Body: 'v' })));
    expect(e.status).toBe(503);
    expect(e.message).toMatch(/Stored in Erne, but the shadow source did not take the change.*cannot be reached/);
    // what was written is in Erne all the same; a miss the source cannot answer is a 503 too
    expect(await text(here, down, 'k')).toBe('v');
    const miss = await sdkError(here.send(new GetObjectCommand({ Bucket: down, Key: 'not-here' })));
    expect(miss.status).toBe(503);
    expect(miss.message).toMatch(/The object is not here and its shadow source failed.*cannot be reached/);
  });
});

describe('shadow settings', () => {
  it('are never shown with their secret; mistakes are one line and change nothing', async () => {
    const name = await shadowBucket(['--shadow-region', 'eu-test-1']);
    const status = await erne(['storage', 'status', name, '--json']);
    expect(JSON.parse(status.stdout).shadow).toEqual({ endpoint: proxy.url, bucket: srcBucket, accessKeyId: ROOT.accessKeyId, region: 'eu-test-1', writeThrough: false });
    const listed = await erne(['storage', 'list', '--json']);
    for (const out of [status.stdout, listed.stdout]) expect(out).not.toContain(ROOT.secretAccessKey);

    const lonely = uniqueBucket('lonely');
    const half = await erne(['storage', 'create', '-n', lonely, '--shadow-endpoint', proxy.url]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/^erne: a shadow source needs --shadow-bucket, --shadow-access-key, --shadow-secret-key too\n/);
    const both = await erne(['storage', 'update', name, '--no-shadow', ...shadowArgs(srcBucket)]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^erne: --no-shadow and --shadow-\* contradict each other\n/);
    const bad = await erne(['storage', 'update', name, ...shadowArgs(srcBucket).map((a) => (a === proxy.url ? 'ftp://x' : a))]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shadow-endpoint: expected an http\(s\) URL/);
    // nothing changed: no bucket made, the shadow as it was
    expect((await erne(['storage', 'status', lonely])).stderr).toBe(`erne: no bucket ${lonely}\n`);
    expect(JSON.parse((await erne(['storage', 'status', name, '--json'])).stdout).shadow.region).toBe('eu-test-1');

    const plain = uniqueBucket('plain');
    expect((await erne(['storage', 'create', '-n', plain])).code).toBe(0);
    const none = await erne(['storage', 'migrate', plain]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`erne: bucket ${plain} has no shadow source to migrate from (erne storage update ${plain} --shadow-endpoint … first)\n`);
    expect(none.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe('erne storage migrate', () => {
  it('copies the rest, resumes after its gateway is SIGKILLed mid-way, and the shadow can then be removed', async () => {
    const from = uniqueBucket('src-migrate');
    await src.send(new CreateBucketCommand({ Bucket: from }));
    const all = Array.from({ length: 60 }, (_, i) => `m/${String(i).padStart(3, '0')}`);
    for (const k of all) await src.send(new PutObjectCommand({ Bucket: from, Key: k, Body: `object ${k}` }));
    const name = uniqueBucket('shadow-migrate');
    expect((await erne(['storage', 'create', '-n', name, ...shadowArgs(from)])).code).toBe(0);
    // one read before: the migration finds it here
    expect(await text(here, name, 'm/005')).toBe('object m/005');

    // the source answers 30 more requests (the count, then objects), then holds the rest
    proxy.hold(30);
    const started = await erne(['storage', 'migrate', name, '--detach']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(new RegExp(`^${name}: running: `));
    const objectGets = () => all.reduce((n, k) => n + proxy.count('GET', `/${from}/${k}`), 0);
    // the migration waits on the source (every object before it copied), its progress shows
    await waitFor('the migration to wait on the held source', () => proxy.held() === 1);
    const s = await erne(['storage', 'status', name, '--json']);
    const m = (JSON.parse(s.stdout) as { migration: { state: string; copied: number; skipped: number; total: number } }).migration;
    expect(m).toMatchObject({ state: 'running', total: 60, copied: 19, skipped: 1 });
    expect((await erne(['storage', 'status', name])).stdout).toMatch(/^Migration:  running: 20\/60 objects migrated \(19 copied, 1 already here\)$/m);
    await g.kill();
    // what the killed gateway asked for is dropped, not answered later
    await waitFor('the killed gateway\'s held requests to be dropped', () => proxy.held() === 0);
    proxy.release();
    const copiedBefore = objectGets();
    expect(copiedBefore).toBeLessThan(all.length);

    g = await startChildGateway({ dataDir: g.dataDir, port: g.port });
    here.destroy();
    here = s3Client(g);
    const run = await erne(['storage', 'migrate', name]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.length, run.stdout).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatch(new RegExp(`^${name}: done: 60/60 objects migrated \\(\\d+ copied, \\d+ already here\\)$`));
    expect(run.stderr).toMatch(/--no-shadow' ends the shadow/);
    // resumed after its cursor, not from the start: a listing of the source started after a key it had reached
    expect(proxy.seen.some((s) => s.startsWith(`GET /${from}?`) && /start-after=m%2F0[1-5]\d/.test(s))).toBe(true);
    // every object fetched once (m/005 by the read before the migration)
    for (const k of all) expect(proxy.count('GET', `/${from}/${k}`), k).toBe(1);

    const off = await erne(['storage', 'update', name, '--no-shadow']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toBe(`bucket ${name}: private, locations global\n`);
    for (const k of all) await src.send(new DeleteObjectCommand({ Bucket: from, Key: k }));
    expect((await keys(here, name, 1000)).map((e) => e.key)).toEqual(all);
    expect(await text(here, name, 'm/059')).toBe('object m/059');
  });
});
