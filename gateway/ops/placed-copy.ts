/**
 * CopyObject into a bucket whose locations are a regions list: the source's bytes are read
 * (wherever they are) and placed like a PUT's body (gateway/ops/placed-put.ts), so the copy is
 * durable in every listed region before the answer and rests nowhere else.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { BucketRecord, ChecksumAlgorithm, ChecksumSet, ObjectVersion, WriteConditions } from '../../metadata/types.js';
import { createChecksum, createMd5, type Checksum } from '../checksum/index.js';
import type { OpContext, Placement } from '../context.js';
import { S3Error } from '../errors.js';
import { openBytes } from './object-bytes.js';
import { placedPut } from './placed-put.js';

type Derived = { headers: ObjectVersion['headers']; userMetadata: Record<string, string>; tags?: Record<string, string> };

export async function placedCopy(
  ctx: OpContext,
  placement: Placement,
  dst: BucketRecord,
  regions: string[],
  source: ObjectVersion,
  meta: Derived,
  cond: WriteConditions,
  wantAlg: ChecksumAlgorithm | undefined,
  owner: string,
): Promise<{ source: ObjectVersion; version: ObjectVersion }> {
  const algs = Object.keys(source.checksums) as ChecksumAlgorithm[];
  if (wantAlg && !algs.includes(wantAlg)) algs.push(wantAlg);
  const md5 = createMd5();
  const sums: [ChecksumAlgorithm, Checksum][] = algs.map((a) => [a, createChecksum(a)]);
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _e, cb: TransformCallback) {
      size += chunk.length;
      md5.update(chunk);
      for (const [, s] of sums) s.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      // a source that changed size while it was read is not copied
      cb(size === source.size ? null : new S3Error('InternalError', 'The copy source changed size while it was read.'));
    },
  });
  const bytes = await openBytes(ctx, source);
  const input: Readable = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
  input.on('error', (err) => hasher.destroy(err));
  const digest = () => ({ size, md5Hex: md5.digest().toString('hex'), checksums: Object.fromEntries(sums.map(([a, s]) => [a, s.digestBase64()])) as ChecksumSet });
  const object = { bucket: ctx.bucket, key: ctx.key, owner, headers: meta.headers, userMetadata: meta.userMetadata, ...(meta.tags ? { tags: meta.tags } : {}) };
  const version = await placedPut(ctx, placement, dst, regions, { object, cond, body: { stream: input.pipe(hasher), digest } });
  return { source, version: version as ObjectVersion };
}
