/**
 * ListMultipartUploads is cluster-wide: an upload's records stay in the region that created
 * it, and the region asked lists its own and asks every other region for theirs (a signed
 * internal call, replication/cluster-uploads.ts), merged in S3 order. Three real region
 * processes (`erne serve --cluster`, each with its own redis-server; `npm run build` first),
 * driven by @aws-sdk/client-s3.
 */
import { CreateBucketCommand, CreateMultipartUploadCommand, HeadBucketCommand, ListMultipartUploadsCommand, type ListMultipartUploadsCommandInput } from '@aws-sdk/client-s3';
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UPLOADS_PATH } from '../../replication/cluster-uploads.js';
import { post, signApply } from '../helpers/cluster.js';
import { sdkError, uniqueBucket } from '../helpers/gateway.js';
import { startProcCluster, type ProcCluster, type ProcRegion } from '../helpers/region-procs.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const NAMES = ['iad', 'fra', 'sin'];
const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describeNeeds(redisServer)('ListMultipartUploads across three region processes', () => {
  let cluster: ProcCluster;
  const r = (name: string) => cluster.region(name);
  const bucket = uniqueBucket('mpu-list');
  /** every upload made: [key, uploadId, region] */
  const made: [string, string, string][] = [];

  beforeAll(async () => {
    cluster = await startProcCluster(NAMES);
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const region of cluster.regions) await waitFor(`the bucket in ${region.name}`, () => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true));
    // keys interleaved across regions, one key with an upload in each, some under common prefixes
    const plan: [string, string][] = [
      ['iad', 'shared.bin'], ['fra', 'shared.bin'], ['sin', 'shared.bin'],
      ['iad', 'a.txt'], ['fra', 'b.txt'], ['sin', 'c.txt'], ['fra', 'a.txt'],
      ['iad', 'dir/x/1'], ['fra', 'dir/x/2'], ['sin', 'dir/y/1'], ['sin', 'dir/z'], ['iad', 'dir/a'], ['fra', 'dir/y/2'],
      ['sin', 'zeta/é'], ['iad', 'zeta/e'],
    ];
    for (const [name, key] of plan) {
      const { UploadId } = await r(name).s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      made.push([key, UploadId!, name]);
    }
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  /** what one region holding every upload would list: [key:id | prefix/] in S3 order */
  function expected(prefix = '', delimiter = ''): string[] {
    const out: string[] = [];
    for (const [key, id] of [...made].sort((x, y) => cmp(x[0], y[0]) || cmp(x[1], y[1]))) {
      if (!key.startsWith(prefix)) continue;
      const i = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const item = i >= 0 ? key.slice(0, i + delimiter.length) : `${key}:${id}`;
      if (out.at(-1) !== item) out.push(item);
    }
    return out;
  }

  /** every page from `region` with the markers it gives, as [key:id | prefix/] in the order listed */
  async function walk(region: ProcRegion, input: Omit<ListMultipartUploadsCommandInput, 'Bucket'>): Promise<{ items: string[]; pages: number }> {
    const items: string[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (let pages = 1; pages <= 50; pages++) {
      const page = await region.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...input, KeyMarker, UploadIdMarker }));
      // uploads and common prefixes in one key order (no upload key equals a listed prefix)
      const here = [...(page.Uploads ?? []).map((u) => [u.Key!, `${u.Key}:${u.UploadId}`]), ...(page.CommonPrefixes ?? []).map((p) => [p.Prefix!, p.Prefix!])];
      here.sort((x, y) => cmp(x[0]!, y[0]!));
      if (input.MaxUploads !== undefined) expect(here.length, `a page of ${input.MaxUploads}`).toBeLessThanOrEqual(input.MaxUploads);
      items.push(...here.map((x) => x[1]!));
      if (!page.IsTruncated) return { items, pages };
      expect(page.NextKeyMarker, 'a truncated page names where the next begins').toBeTruthy();
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
    throw new Error('more than 50 pages');
  }

  it('lists the uploads created in every region from every region, in S3 order, with their initiator', async () => {
    for (const name of NAMES) expect(made.filter((m) => m[2] === name).length).toBeGreaterThan(0);
    const want = expected();
    expect(want).toHaveLength(made.length);
    for (const region of cluster.regions) {
      const page = await region.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(page.IsTruncated, region.name).toBe(false);
      expect((page.Uploads ?? []).map((u) => `${u.Key}:${u.UploadId}`), `listed from ${region.name}`).toEqual(want);
      // one key's uploads oldest first: shared.bin was begun in iad, then fra, then sin
      expect((page.Uploads ?? []).filter((u) => u.Key === 'shared.bin').map((u) => u.UploadId!.split('.')[1])).toEqual(['iad', 'fra', 'sin']);
      // the owner named as the local listing names it, whichever region holds the upload
      const local = page.Uploads!.find((u) => u.UploadId!.includes(`.${region.name}.`))!;
      for (const u of page.Uploads!) {
        expect(u.Initiator).toEqual(local.Initiator);
        expect(u.Owner).toEqual(local.Owner);
        expect(u.Initiator?.ID).toBeTruthy();
        expect(u.StorageClass).toBe('STANDARD');
        expect(u.Initiated).toBeInstanceOf(Date);
      }
    }
  });

  it('pages of MaxUploads 2 give every upload exactly once, in S3 order, from every region (also with a prefix and a delimiter)', async () => {
    const cases: Omit<ListMultipartUploadsCommandInput, 'Bucket'>[] = [
      { MaxUploads: 2 },
      { MaxUploads: 2, Prefix: 'dir/' },
      { MaxUploads: 2, Delimiter: '/' },
      { MaxUploads: 2, Prefix: 'dir/', Delimiter: '/' },
      { MaxUploads: 1, Prefix: 'dir/', Delimiter: '/' },
    ];
    for (const input of cases) {
      const want = expected(input.Prefix, input.Delimiter);
      expect(new Set(want).size).toBe(want.length);
      for (const region of cluster.regions) {
        const { items, pages } = await walk(region, input);
        expect(items, `${JSON.stringify(input)} from ${region.name}`).toEqual(want);
        expect(pages).toBe(Math.max(1, Math.ceil(want.length / input.MaxUploads!)));
      }
    }
    // the delimiter rolls up uploads held in different regions into one common prefix
    expect(expected('dir/', '/')).toEqual(['dir/a:' + made.find((m) => m[0] === 'dir/a')![1], 'dir/x/', 'dir/y/', 'dir/z:' + made.find((m) => m[0] === 'dir/z')![1]]);
  });

  it('the internal endpoint answers the cluster only: unsigned, forged or self-signed calls are refused', async () => {
    const body = pack({ bucket, maxUploads: 10 });
    const sin = r('sin').url;
    const unsigned = await post(sin, { headers: { 'content-type': 'application/msgpack' }, body, path: UPLOADS_PATH });
    expect(unsigned.status, unsigned.text).toBe(401);
    const forged = await post(sin, { ...signApply(body, { region: 'iad', target: UPLOADS_PATH, secret: 'not-the-cluster-secret' }), path: UPLOADS_PATH });
    expect(forged.status, forged.text).toBe(401);
    const self = await post(sin, { ...signApply(body, { region: 'sin', target: UPLOADS_PATH }), path: UPLOADS_PATH });
    expect(self.status, self.text).toBe(401);
    // another body than the one signed
    const swapped = await post(sin, { headers: signApply(pack({ bucket: 'other', maxUploads: 10 }), { region: 'iad', target: UPLOADS_PATH }).headers, body, path: UPLOADS_PATH });
    expect(swapped.status, swapped.text).toBe(401);
    // signed by another region: sin's own uploads only
    const ok = await signedCall(sin, body);
    expect(ok.status).toBe(200);
    const ids = (ok.body as { entries: { upload?: { uploadId: string } }[] }).entries.map((e) => e.upload?.uploadId);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(id).toMatch(/\.sin\./);
  });

  it('a region that cannot be reached fails the listing with 503 naming it, never a partial listing', async () => {
    await r('sin').killGateway();
    for (const name of ['iad', 'fra']) {
      const e = await sdkError(r(name).s3.send(new ListMultipartUploadsCommand({ Bucket: bucket })));
      expect([name, e.name, e.status]).toEqual([name, 'ServiceUnavailable', 503]);
      expect(e.message).toContain('region sin cannot be reached');
    }
    await r('sin').startGateway();
    const page = await r('fra').s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect((page.Uploads ?? []).map((u) => `${u.Key}:${u.UploadId}`)).toEqual(expected());
  });
});

/** a POST to the uploads endpoint signed as iad, its msgpack answer decoded */
async function signedCall(base: string, body: Buffer): Promise<{ status: number; body: unknown }> {
  const { headers } = signApply(body, { region: 'iad', target: UPLOADS_PATH });
  const res = await fetch(new URL(UPLOADS_PATH, base), { method: 'POST', headers, body });
  return { status: res.status, body: unpack(Buffer.from(await res.arrayBuffer())) };
}
