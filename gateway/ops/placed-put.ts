/**
 * PutObject to a bucket whose locations are a regions list (or a PUT naming its regions with
 * X-Tigris-Regions): acknowledged only once the bytes and the version are durable in every
 * listed region, so each of them serves the object at once, even if this region dies right
 * after answering. This region keeps the bytes only if it is listed: the body is streamed to
 * the listed regions as it arrives, never rested here.
 *
 *   1. stage   the body is streamed to every listed region at once (replication/placement.ts);
 *              each stores it as a blob no version refers to yet
 *   2. commit  one listed region (this one if listed, else the first) commits the version with
 *              its blob, conditions checked in its transaction; its outbox replicates it
 *   3. hold    every other listed region stores the same version with its own blob
 *   4. here    this region, if not listed, applies the version (its bytes: in the committer)
 *
 * A listed region that cannot be reached before the commit: 503, nothing visible anywhere
 * (staged blobs are discarded, or swept by their janitor). One lost after the commit (between
 * 2 and 3): 503 saying so; the version exists and replicates, its bytes in the others.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { BlobStore } from '../../cache/types.js';
import type { ReplicatedVersion } from '../../metadata/changes.js';
import { toReplicated } from '../../metadata/changes.js';
import { MetadataError } from '../../metadata/errors.js';
import type { BucketRecord, NewObject, WriteConditions } from '../../metadata/types.js';
import { RegionUnreachable } from '../../replication/cluster-call.js';
import type { HeldBlob } from '../../replication/held-apply.js';
import { PlaceRefused, type StagedBytes, type StageStream } from '../../replication/placement.js';
import type { OpContext, Placement } from '../context.js';
import { S3Error } from '../errors.js';
import { MAX_SINGLE_PUT_BYTES } from '../validate.js';

export interface PlacedWrite {
  object: Omit<NewObject, 'body' | 'size' | 'etag' | 'checksums'>;
  cond?: WriteConditions;
  /** the request body, opened and being verified (gateway/body.ts) */
  body: { stream: Readable; digest(): { size: number; md5Hex: string; checksums: NewObject['checksums'] } };
}

export async function placedPut(ctx: OpContext, placement: Placement, bucket: BucketRecord, regions: string[], w: PlacedWrite) {
  const self = ctx.svc.region;
  const primary = regions.includes(self) ? self : regions[0]!;
  const streams = regions.map((r) => (r === self ? stageLocally(ctx.svc.blobs, self) : placement.client.stage(r, w.object.bucket, w.object.key)));
  const sha = createHash('sha256');
  try {
    await fanOut(w.body.stream, streams, (c) => sha.update(c));
  } catch (err) {
    for (const s of streams) s.sink.destroy(new Error('the write was abandoned'));
    await settleAndDiscard(placement, streams);
    // the client's own error (a bad checksum, a body too large) stays the client's
    if (err instanceof S3Error) throw err;
    throw unreachable(regions, err, 'nothing was stored');
  }
  const results = await Promise.allSettled(streams.map((s) => s.stored));
  const digest = w.body.digest();
  const want = sha.digest('hex');
  const bad = results.findIndex((r, i) => r.status === 'rejected' || r.value.size !== digest.size || (streams[i]!.region !== self && r.value.sha256 !== want));
  if (bad >= 0) {
    await discardAll(placement, streams, results);
    const r = results[bad]!;
    throw unreachable(regions, r.status === 'rejected' ? r.reason : new Error(`region ${streams[bad]!.region} stored other bytes than were sent`), 'nothing was stored');
  }
  const staged = new Map(streams.map((s, i) => [s.region, (results[i] as PromiseFulfilledResult<StagedBytes>).value.blob]));
  const object = { ...w.object, size: digest.size, etag: digest.md5Hex, checksums: digest.checksums, keptIn: regions };

  let version: ReplicatedVersion;
  let createdAt: number;
  try {
    if (primary === self) {
      const blob = staged.get(self);
      const v = await ctx.svc.layer.putObject({ ...object, body: blob ? { kind: 'blob', ...blob } : { kind: 'inline', data: new Uint8Array(0) } }, w.cond);
      version = toReplicated(v, self);
      createdAt = bucket.createdAt;
    } else {
      ({ version, bucketCreatedAt: createdAt } = await placement.client.commit(primary, { op: 'commit', object, blob: staged.get(primary), cond: w.cond }));
    }
  } catch (err) {
    await discardAll(placement, streams, results);
    if (err instanceof PlaceRefused) throw new S3Error(err.code as never, err.message);
    if (err instanceof MetadataError || err instanceof S3Error) throw err;
    throw unreachable([primary], err, 'nothing was stored');
  }

  const holds = regions.filter((r) => r !== primary).map((r) =>
    r === self ? placement.hereApply(createdAt, version, staged.get(r)) : placement.client.hold(r, { op: 'hold', bucketCreatedAt: createdAt, version, blob: staged.get(r) }),
  );
  const held = await Promise.allSettled(holds);
  const lost = held.findIndex((h) => h.status === 'rejected');
  if (lost >= 0) {
    const others = regions.filter((r) => r !== primary);
    throw new S3Error(
      'ServiceUnavailable',
      `The object was stored in region ${primary} but region ${others[lost]} could not take it (${((held[lost] as PromiseRejectedResult).reason as Error).message}); it will reach every region by replication, with its bytes in ${primary}.`,
    );
  }
  // read-your-write here, where the bytes are not kept
  if (!regions.includes(self)) await placement.hereApply(createdAt, version, undefined);
  return version;
}

function unreachable(regions: string[], err: unknown, outcome: string): S3Error {
  const why = err instanceof RegionUnreachable || err instanceof Error ? err.message : String(err);
  return new S3Error('ServiceUnavailable', `The bucket keeps its objects in ${regions.join(', ')}, and ${why}; ${outcome}.`);
}

/** this region is listed: its share goes to its own volume, as a blob (never inline) */
function stageLocally(blobs: BlobStore, self: string): StageStream {
  const sink = new PassThrough({ highWaterMark: 512 * 1024 });
  const stored = blobs.ingest(sink, { inlineThreshold: 0, maxSize: MAX_SINGLE_PUT_BYTES }).then(
    (r): StagedBytes => ({ size: r.size, sha256: '', ...(r.blobId ? { blob: { blobId: r.blobId, node: blobs.nodeId } } : {}) }),
  );
  stored.catch(() => undefined);
  return { region: self, sink, stored };
}

/** every chunk to every sink, at the pace of the slowest; the sinks are ended once the source ends well */
async function fanOut(src: Readable, streams: StageStream[], onChunk: (c: Buffer) => void): Promise<void> {
  for await (const raw of src) {
    const chunk = raw as Buffer;
    onChunk(chunk);
    await Promise.all(streams.map((s) => write(s, chunk)));
  }
  for (const s of streams) s.sink.end();
}

function write(s: StageStream, chunk: Buffer): Promise<void> {
  const sink: Writable = s.sink;
  if (sink.destroyed) return Promise.reject(new Error(`the stream to region ${s.region} was cut`));
  if (sink.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      sink.off('drain', ok);
      sink.off('close', closed);
      sink.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const ok = () => done();
    const closed = () => done(new Error(`the stream to region ${s.region} was cut`));
    sink.once('drain', ok);
    sink.once('close', closed);
    sink.once('error', done);
  });
}

async function settleAndDiscard(placement: Placement, streams: StageStream[]): Promise<void> {
  await discardAll(placement, streams, await Promise.allSettled(streams.map((s) => s.stored)));
}

async function discardAll(placement: Placement, streams: StageStream[], results: PromiseSettledResult<StagedBytes>[]): Promise<void> {
  await Promise.all(
    results.map((r, i) => {
      const blob: HeldBlob | undefined = r.status === 'fulfilled' ? r.value.blob : undefined;
      if (!blob) return undefined;
      const region = streams[i]!.region;
      return region === placement.client.self ? placement.discardHere(blob) : placement.client.discard(region, blob);
    }),
  );
}
