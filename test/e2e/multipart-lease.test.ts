/**
 * A gateway that dies in the middle of CompleteMultipartUpload must not freeze the upload for
 * good. The dead completion is played through the metadata layer on the gateway's own store
 * (the steps a gateway takes, then nothing more); the live gateway is driven with
 * @aws-sdk/client-s3: UploadPart is refused while the dead completion's lease lasts, accepted
 * once it has lapsed, and a retried Complete writes the object from the parts as they are now.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetadataError } from '../../metadata/errors.js';
import type { KvStore } from '../../metadata/kv.js';
import { COMPLETION_LEASE_MS, createMultipartLayer } from '../../metadata/multipart.js';
import { openMetadataStore } from '../../metadata/open.js';
import { bodyBytes, s3Client, sdkError, startTestGateway, testMetadata, uniqueBucket, type TestGateway } from '../helpers/gateway.js';

const MiB = 1024 * 1024;

let t: TestGateway;
let s3: S3Client;
let kv: KvStore;
const meta = testMetadata();
const bucket = uniqueBucket('mpl');

beforeAll(async () => {
  t = await startTestGateway(meta.metadata ? { metadata: meta.metadata } : {});
  s3 = s3Client(t.gw);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // the gateway's own metadata store, opened a second time as another gateway would
  kv = await openMetadataStore(meta.metadata?.backend === 'fdb' ? meta.metadata : { backend: 'lmdb', dir: join(t.dataDir, 'meta') });
});

afterAll(async () => {
  s3?.destroy();
  await kv?.close();
  await t?.stop();
  await meta.drop();
});

async function aborted(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as MetadataError).code;
  }
}

describe('a completion whose gateway died', () => {
  it('freezes parts only for its lease; then UploadPart works and a retried Complete writes the right object', async () => {
    const key = 'died/mid-completion';
    const uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId!;
    const one = randomBytes(5 * MiB);
    const oldTwo = Buffer.from('the second part before the crash');
    const newTwo = Buffer.from('the second part uploaded after the lease lapsed');
    const put = (n: number, body: Buffer) => s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body }));
    const e1 = (await put(1, one)).ETag!;
    await put(2, oldTwo);

    // a gateway began completing just now and died: the parts are frozen for the lease
    const justNow = createMultipartLayer(kv);
    await justNow.beginCompletion(bucket, key, uploadId, 'died-just-now');
    const refused = await sdkError(put(2, newTwo));
    expect([refused.name, refused.status]).toEqual(['NoSuchUpload', 404]);

    // a gateway that began (taking over, as a retried Complete does) and died longer ago than
    // the lease, after writing its first index batch
    const longAgo = createMultipartLayer(kv, { now: () => Date.now() - COMPLETION_LEASE_MS - 60_000 });
    await longAgo.beginCompletion(bucket, key, uploadId, 'died-long-ago');
    await longAgo.writeIndex(bucket, key, uploadId, 'died-long-ago', [{ ordinal: 1, partNumber: 1, offset: 0, size: one.length }]);

    const e2 = (await put(2, newTwo)).ETag!;
    expect(e2).toBe(`"${createHash('md5').update(newTwo).digest('hex')}"`);
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.ETag])).toEqual([[1, e1], [2, e2]]);

    // the dead completion's late steps cannot mix its view of the parts into the upload
    const late = createMultipartLayer(kv);
    expect(await aborted(late.writeIndex(bucket, key, uploadId, 'died-long-ago', [{ ordinal: 2, partNumber: 2, offset: one.length, size: oldTwo.length }]))).toBe('OperationAborted');
    const pending = { size: one.length + oldTwo.length, etag: 'x-2', checksums: {}, partCount: 2 };
    expect(await aborted(late.markCommitting(bucket, key, uploadId, 'died-long-ago', pending))).toBe('OperationAborted');

    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }),
    );
    const md5s = createHash('md5').update(Buffer.from(e1.slice(1, -1), 'hex')).update(Buffer.from(e2.slice(1, -1), 'hex'));
    expect(done.ETag).toBe(`"${md5s.digest('hex')}-2"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect((await bodyBytes(got.Body)).equals(Buffer.concat([one, newTwo]))).toBe(true);
  });
});
