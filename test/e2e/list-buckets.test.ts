/**
 * ListBuckets pages and filters through @aws-sdk/client-s3 (ListBucketsCommand, the
 * paginateListBuckets paginator) and raw requests: max-buckets, continuation tokens, prefix,
 * bucket-region, BucketRegion on every bucket, a scoped key paging through only its own
 * buckets, and S3's InvalidArgument for a bad max-buckets or token.
 * Needs `npm run build` (a second key is added with `erne keys create`).
 */
import { CreateBucketCommand, ListBucketsCommand, paginateListBuckets, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/child.js';
import { s3Client, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const FIRST = 'eu-erne-1';
const SECOND = 'eu-erne-2';
/** made while the gateway served FIRST */
const EARLY = ['lb-a1', 'lb-a2', 'lb-a3', 'lb-b1', 'lb-b2', 'other-1'];
/** made after a restart serving SECOND */
const LATE = ['lb-c1'];
const ALL = [...EARLY, ...LATE].sort();

const dataDir = tempDir();
let t: TestGateway;
let root: S3Client;

beforeAll(async () => {
  // the buckets keep the region they were made in across a restart in another region
  const first = await startTestGateway({ dataDir, region: FIRST });
  const c = s3Client(first.gw);
  for (const b of EARLY) await c.send(new CreateBucketCommand({ Bucket: b }));
  c.destroy();
  await first.gw.close();
  t = await startTestGateway({ dataDir, region: SECOND });
  root = s3Client(t.gw);
  for (const b of LATE) await root.send(new CreateBucketCommand({ Bucket: b }));
});

afterAll(async () => {
  root?.destroy();
  await t?.stop();
});

async function pages(client: S3Client, input: { Prefix?: string; BucketRegion?: string }, pageSize: number) {
  const out: string[][] = [];
  for await (const p of paginateListBuckets({ client, pageSize }, input)) out.push((p.Buckets ?? []).map((b) => b.Name!));
  return out;
}

describe('ListBuckets', () => {
  it('without max-buckets: every bucket, each with its region, no continuation token', async () => {
    const r = await root.send(new ListBucketsCommand({}));
    expect(r.Buckets?.map((b) => [b.Name, b.BucketRegion])).toEqual(ALL.map((n) => [n, LATE.includes(n) ? SECOND : FIRST]));
    expect(r.ContinuationToken).toBeUndefined();
  });

  it('MaxBuckets pages with a continuation token; the paginator walks every page', async () => {
    const first = await root.send(new ListBucketsCommand({ MaxBuckets: 2 }));
    expect(first.Buckets?.map((b) => b.Name)).toEqual(ALL.slice(0, 2));
    expect(first.ContinuationToken).toBeTruthy();
    const second = await root.send(new ListBucketsCommand({ MaxBuckets: 2, ContinuationToken: first.ContinuationToken }));
    expect(second.Buckets?.map((b) => b.Name)).toEqual(ALL.slice(2, 4));
    expect(await pages(root, {}, 3)).toEqual([ALL.slice(0, 3), ALL.slice(3, 6), ALL.slice(6)]);
    // a page that ends exactly at the last bucket has no token
    const exact = await root.send(new ListBucketsCommand({ MaxBuckets: ALL.length }));
    expect([exact.Buckets?.length, exact.ContinuationToken]).toEqual([ALL.length, undefined]);
  });

  it('prefix filters (and is echoed); pages stay within it', async () => {
    const r = await root.send(new ListBucketsCommand({ Prefix: 'lb-a' }));
    expect(r.Buckets?.map((b) => b.Name)).toEqual(['lb-a1', 'lb-a2', 'lb-a3']);
    expect(r.Prefix).toBe('lb-a');
    expect(await pages(root, { Prefix: 'lb-' }, 2)).toEqual([['lb-a1', 'lb-a2'], ['lb-a3', 'lb-b1'], ['lb-b2', 'lb-c1']]);
  });

  it('bucket-region keeps the buckets of that region', async () => {
    const late = await root.send(new ListBucketsCommand({ BucketRegion: SECOND }));
    expect(late.Buckets?.map((b) => [b.Name, b.BucketRegion])).toEqual([['lb-c1', SECOND]]);
    expect(await pages(root, { BucketRegion: FIRST, Prefix: 'lb-' }, 4)).toEqual([['lb-a1', 'lb-a2', 'lb-a3', 'lb-b1'], ['lb-b2']]);
    expect((await root.send(new ListBucketsCommand({ BucketRegion: 'nowhere-1' }))).Buckets ?? []).toEqual([]);
  });

  it('a scoped key pages through only the buckets it may see', async () => {
    const creds = await createKey(t.dataDir);
    const user = s3Client(t.gw, creds);
    try {
      for (const b of ['lb-u1', 'lb-u2', 'lb-u3']) await user.send(new CreateBucketCommand({ Bucket: b }));
      expect(await pages(user, {}, 2)).toEqual([['lb-u1', 'lb-u2'], ['lb-u3']]);
    } finally {
      user.destroy();
    }
  });

  it.each(['0', '10001', 'ten', '-1', '1.5', ''])('max-buckets=%j → 400 InvalidArgument', async (v) => {
    const r = await rawRequest(t.gw, { method: 'GET', path: '/', query: `max-buckets=${v}` });
    expect(r.status).toBe(400);
    expect(parseError(r.text)).toMatchObject({ Code: 'InvalidArgument', ArgumentName: 'max-buckets' });
  });

  it.each(['not!base64', Buffer.from('1:lb-a1').toString('base64url'), Buffer.from('b1:').toString('base64url')])(
    'a continuation token not of ours (%j) → 400 InvalidArgument',
    async (token) => {
      const r = await rawRequest(t.gw, { method: 'GET', path: '/', query: `max-buckets=2&continuation-token=${encodeURIComponent(token)}` });
      expect(r.status).toBe(400);
      expect(parseError(r.text)).toMatchObject({ Code: 'InvalidArgument', ArgumentName: 'continuation-token' });
    },
  );
});
