/**
 * Every operation `X-Tigris-Consistent: true` covers (PUT, GET, HEAD, DELETE, copy, multipart
 * completion) is executed by the key's leader — the region that created the bucket, here
 * fra — so what one region did with the header, another sees with the header at once. Three
 * in-process regions with replication, their own redis-servers, @aws-sdk/client-s3 and raw
 * signed requests. The forward keeps the arriving region's request id, and a client cannot
 * pass for a forwarding region by sending the forward's headers itself.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { uploadIdRegion } from '../../metadata/upload-id.js';
import { ROOT, s3Client, sdkError, uniqueBucket } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';
import { redisServer } from '../helpers/redis.js';
import { useRegions } from '../helpers/regions.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

type HeaderBag = { headers: Record<string, string> };

describeNeeds(redisServer)('consistent requests: each operation executed by the leader', () => {
  const cluster = useRegions(['iad', 'fra', 'sin']);
  const r = (name: string) => cluster.region(name);
  const opened: S3Client[] = [];

  /** a client of `name` whose every request sends the header (the twin header when asked) */
  function strong(name: string, header = 'x-tigris-consistent'): S3Client {
    const s3 = s3Client(r(name));
    s3.middlewareStack.add(
      (next) => async (args) => {
        (args.request as HeaderBag).headers[header] = 'true';
        return next(args);
      },
      { step: 'build', name: 'consistentHeader' },
    );
    opened.push(s3);
    return s3;
  }

  async function bucketFromFra(tag: string): Promise<string> {
    const bucket = uniqueBucket(tag);
    await r('fra').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const region of cluster.regions) await waitFor(`${bucket} in ${region.name}`, () => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true));
    return bucket;
  }

  const text = async (s3: S3Client, Bucket: string, Key: string) => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

  it('If-None-Match: * with the header from three regions at once: exactly one creates the key', async () => {
    const bucket = await bucketFromFra('create-once');
    try {
      for (let round = 0; round < 5; round++) {
        const key = `lock-${round}`;
        const tries = await Promise.allSettled(
          ['iad', 'fra', 'sin', 'iad', 'sin', 'fra'].map((name, i) => strong(name).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `owner ${i}`, IfNoneMatch: '*' }))),
        );
        const won = tries.flatMap((t, i) => (t.status === 'fulfilled' ? [i] : []));
        expect(won, `round ${round}`).toHaveLength(1);
        for (const t of tries) if (t.status === 'rejected') expect((t.reason as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(412);
        // every region, asking with the header, sees the winner
        for (const name of ['iad', 'fra', 'sin']) expect(await text(strong(name), bucket, key)).toBe(`owner ${won[0]}`);
      }
    } finally {
      for (const s3 of opened.splice(0)) s3.destroy();
    }
  }, 60_000);

  it('a consistent PUT, copy, DELETE and multipart completion in one region is seen at once by consistent reads in the others', async () => {
    const bucket = await bucketFromFra('ops');
    try {
      await strong('sin').send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'alpha' }));
      expect(await text(strong('iad'), bucket, 'a')).toBe('alpha');
      const head = await strong('iad', 'x-erne-consistent').send(new HeadObjectCommand({ Bucket: bucket, Key: 'a' }));
      expect(head.ContentLength).toBe(5);

      await strong('iad').send(new CopyObjectCommand({ Bucket: bucket, Key: 'b', CopySource: `${bucket}/a` }));
      expect(await text(strong('sin'), bucket, 'b')).toBe('alpha');

      await strong('iad').send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' }));
      expect((await sdkError(strong('sin').send(new GetObjectCommand({ Bucket: bucket, Key: 'a' })))).name).toBe('NoSuchKey');

      // a consistent upload lives in the leader: its parts and completion are forwarded there
      const sin = strong('sin');
      const { UploadId } = await sin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm' }));
      expect(uploadIdRegion(UploadId!)).toBe('fra');
      const part = Buffer.alloc(5 * 1024 * 1024, 7);
      const p1 = await sin.send(new UploadPartCommand({ Bucket: bucket, Key: 'm', UploadId, PartNumber: 1, Body: part }));
      const p2 = await sin.send(new UploadPartCommand({ Bucket: bucket, Key: 'm', UploadId, PartNumber: 2, Body: 'tail' }));
      await sin.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'm', UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
      );
      const m = await strong('iad').send(new HeadObjectCommand({ Bucket: bucket, Key: 'm' }));
      expect(m.ContentLength).toBe(part.length + 4);
    } finally {
      for (const s3 of opened.splice(0)) s3.destroy();
    }
  }, 60_000);

  it('the header on the completion of an upload made without it: served where the upload lives', async () => {
    const bucket = await bucketFromFra('own-upload');
    try {
      const { UploadId } = await r('sin').s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm' }));
      expect(uploadIdRegion(UploadId!)).toBe('sin');
      const p1 = await r('sin').s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'm', UploadId, PartNumber: 1, Body: 'only part' }));
      await strong('sin').send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'm', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }));
      expect(await text(r('sin').s3, bucket, 'm')).toBe('only part');
    } finally {
      for (const s3 of opened.splice(0)) s3.destroy();
    }
  }, 60_000);

  it('the forward keeps the arriving region’s request id; a client sending the forward’s headers itself is still forwarded', async () => {
    const bucket = await bucketFromFra('ids');
    await r('fra').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
    await waitFor('k in iad', () => r('iad').s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })).then(() => true));
    const local = await rawRequest(r('iad'), { method: 'HEAD', path: `/${bucket}/k`, creds: ROOT });
    expect(local.status).toBe(200);
    expect(local.headers['x-erne-served-by-region']).toBeUndefined();
    const forwarded = await rawRequest(r('iad'), { method: 'HEAD', path: `/${bucket}/k`, headers: { 'x-tigris-consistent': 'true' }, creds: ROOT });
    expect(forwarded.status).toBe(200);
    expect(forwarded.headers['x-erne-served-by-region']).toBe('fra');
    const atFra = await rawRequest(r('fra'), { method: 'HEAD', path: `/${bucket}/k`, creds: ROOT });
    // ids start with the issuing gateway's own prefix: the forwarded answer carries iad's
    const prefix = (res: { headers: Record<string, unknown> }) => String(res.headers['x-amz-request-id']).slice(0, 8);
    expect(prefix(forwarded)).toBe(prefix(local));
    expect(prefix(forwarded)).not.toBe(prefix(atFra));

    const spoofed = await rawRequest(r('iad'), {
      method: 'HEAD',
      path: `/${bucket}/k`,
      headers: {
        'x-tigris-consistent': 'true',
        'x-erne-forwarded-from': 'sin',
        'x-erne-cluster-region': 'sin',
        'x-erne-cluster-date': String(Date.now()),
        'x-erne-cluster-nonce': 'n'.repeat(32),
        'x-erne-cluster-content-sha256': 'client-signed',
        'x-erne-cluster-signature': '0'.repeat(64),
        'x-erne-request-id': 'AAAAAAAA00000001',
      },
      // as a client would fake them: unsigned (the forward drops what it signs itself)
      unsignedHeaders: ['x-erne-forwarded-from', 'x-erne-cluster-region', 'x-erne-cluster-date', 'x-erne-cluster-nonce', 'x-erne-cluster-content-sha256', 'x-erne-cluster-signature', 'x-erne-request-id'],
      creds: ROOT,
    });
    expect(spoofed.status).toBe(200);
    expect(spoofed.headers['x-erne-served-by-region']).toBe('fra');
    expect(spoofed.headers['x-amz-request-id']).not.toBe('AAAAAAAA00000001');
  }, 60_000);
});
