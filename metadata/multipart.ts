/**
 * Multipart uploads over any KvStore (layout: metadata/multipart-records.ts). Parts are
 * separate records; everything that may touch all of an upload's parts (completion, abort,
 * release) runs in bounded transactions. The completion protocol lives in the gateway
 * (gateway/ops/multipart-complete.ts) and uses the steps below:
 *
 *   beginCompletion  (small tx)   state open|completing → completing with the caller's token
 *                                 and a lease; parts are frozen (UploadPart refuses) from here on
 *   holdCompletion   (small tx)   before each validation batch: token still ours, lease renewed
 *   getParts         (read txs)   validation in batches; nothing changes
 *   abandonCompletion(small tx)   validation failed: back to open, nothing changed
 *   writeIndex       (batch txs)  marks named parts with the token and writes the ordinal
 *                                 index ('pf'); each batch re-checks the token and renews the
 *                                 lease, so two concurrent completions never interleave
 *   markCommitting   (small tx)   token still ours → committing, with the version to write
 *   (ObjectLayer.putObject commits the version with the If-Match / If-None-Match conditions)
 *   finishCompletion (small tx)   drops the upload record, records it as done, queues the
 *                                 trim of unnamed parts
 * Every step is idempotent, so a retried completion (same part list) resumes where a crashed
 * or timed-out one stopped; a 'committing' upload is re-committed only if its version is not
 * already the current one (see the gateway for that check).
 *
 * The lease: a gateway that dies while 'completing' must not freeze the upload for good. A
 * completing upload whose lease is older than `completionLeaseMs` counts as open: getUpload
 * and listUploads show it open, and putPart reopens it (token dropped) in the transaction that
 * stores the part, so the dead completion's late writeIndex / markCommitting fail their token
 * check (OperationAborted) and never mix with the new parts. A completion that is merely slow
 * keeps its lease by renewing it every batch; one whose lease lapsed but that nobody reopened
 * may still go on (nothing can have changed under it). 'committing' has no lease: its version
 * may already be written, and a retried Complete finishes it.
 */
import { MetadataError } from './errors.js';
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { listUploads, type ListUploadsInput, type ListUploadsPage } from './multipart-list.js';
import {
  decodeDone,
  decodeIndex,
  decodePart,
  decodeUpload,
  encodeDone,
  encodeIndex,
  encodePart,
  encodeUpload,
  kDone,
  kIndex,
  kPart,
  kPartRef,
  kRelease,
  kTrim,
  kUpload,
  leaseLapsed,
  range,
  reopened,
  type CompletedRecord,
  type PartIndexEntry,
  type PartRecord,
  type PendingObject,
  type UploadRecord,
} from './multipart-records.js';
import { freePart, releaseQueued } from './multipart-release.js';
import { encode } from './records.js';
import { newUploadId } from './upload-id.js';
import { keyAfter, pack, unpackAfter } from './tuple.js';

export type { CompletedRecord, PartIndexEntry, PartRecord, PendingObject, UploadRecord } from './multipart-records.js';
export type { ListUploadsInput, ListUploadsPage } from './multipart-list.js';

export const MAX_PART_NUMBER = 10_000;

/**
 * How long a completion's lease lasts without renewal. A batch renews it, and one batch takes
 * milliseconds to seconds, so only a dead (or wedged) completion lets it lapse.
 */
export const COMPLETION_LEASE_MS = 2 * 60_000;

export interface MultipartOptions {
  /** default COMPLETION_LEASE_MS */
  completionLeaseMs?: number;
  /** the clock leases are taken and judged by (tests); default Date.now */
  now?: () => number;
  /** the region new upload ids name (metadata/upload-id.ts); none: ids name no region */
  region?: string;
}

export type NewUpload = Omit<UploadRecord, 'uploadId' | 'initiated' | 'state' | 'token' | 'pending'>;

export interface MultipartLayer {
  /** NoSuchBucket */
  createUpload(u: NewUpload): Promise<UploadRecord>;
  /** NoSuchUpload */
  getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord>;
  /** the record of a committed upload, if it was committed and is still stored */
  getCompleted(uploadId: string): Promise<CompletedRecord | undefined>;
  /**
   * Stores a part (replacing the same number: the old blob becomes garbage in the same
   * transaction). NoSuchUpload when the upload is gone or being completed.
   */
  putPart(bucket: string, key: string, uploadId: string, part: PartRecord): Promise<void>;
  /** the named parts (absent ones left out), in one read; callers bound the list */
  getParts(uploadId: string, numbers: number[]): Promise<Map<number, PartRecord>>;
  /** parts with number > after, ascending, at most limit (one bounded read) */
  listParts(uploadId: string, after: number, limit: number): Promise<PartRecord[]>;
  listUploads(input: ListUploadsInput): Promise<ListUploadsPage>;
  /** NoSuchUpload; the parts are queued for release (the janitor frees them) */
  abortUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  /** a completed upload whose bytes were copied elsewhere (a placed completion): every part is queued for release */
  releaseUpload(uploadId: string): Promise<void>;

  // completion steps (see the header comment)
  beginCompletion(bucket: string, key: string, uploadId: string, token: string): Promise<UploadRecord>;
  /** renews the lease; OperationAborted when the upload is no longer completing under `token` */
  holdCompletion(bucket: string, key: string, uploadId: string, token: string): Promise<void>;
  abandonCompletion(bucket: string, key: string, uploadId: string, token: string): Promise<void>;
  writeIndex(bucket: string, key: string, uploadId: string, token: string, entries: PartIndexEntry[]): Promise<void>;
  markCommitting(bucket: string, key: string, uploadId: string, token: string, pending: PendingObject): Promise<void>;
  finishCompletion(bucket: string, key: string, uploadId: string, done: CompletedRecord): Promise<void>;

  // reading a completed object
  /** the index entry of the part at `ordinal` (1-based) */
  indexEntry(uploadId: string, ordinal: number): Promise<PartIndexEntry | undefined>;
  /** index entries from `ordinal` on, at most limit */
  indexFrom(uploadId: string, ordinal: number, limit: number): Promise<PartIndexEntry[]>;
  /** the ordinal of the part holding byte `offset` (binary search of ≤ 14 point reads) */
  ordinalAt(uploadId: string, partCount: number, offset: number): Promise<number>;

  /** janitor: frees parts of released/trimmed uploads, bounded (and finishes a bucket delete a crash cut short); returns parts handled */
  releaseQueued(budget?: number): Promise<number>;
}

export { newUploadId, uploadIdRegion } from './upload-id.js';

export function createMultipartLayer(kv: KvStore, opts: MultipartOptions = {}): MultipartLayer {
  return new KvMultipartLayer(kv, opts.completionLeaseMs ?? COMPLETION_LEASE_MS, opts.now ?? Date.now, opts.region);
}

const noSuchUpload = () => new MetadataError('NoSuchUpload');

async function requireUpload(tx: KvReader, bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
  const v = await tx.get(kUpload(bucket, key, uploadId));
  if (!v) throw noSuchUpload();
  return decodeUpload(bucket, key, uploadId, v);
}

class KvMultipartLayer implements MultipartLayer {
  constructor(
    private readonly kv: KvStore,
    private readonly leaseMs: number,
    private readonly now: () => number,
    private readonly region: string | undefined,
  ) {}

  /** the upload as requests should see it: a lapsed completion is open again */
  private view(up: UploadRecord): UploadRecord {
    return leaseLapsed(up, this.now(), this.leaseMs) ? reopened(up) : up;
  }

  async createUpload(u: NewUpload): Promise<UploadRecord> {
    const rec: UploadRecord = { ...u, uploadId: newUploadId(this.region), initiated: Date.now(), state: 'open' };
    await this.kv.transact(async (tx) => {
      // read in the same transaction as deleteBucket's, which aborts every upload it finds
      if (!(await tx.get(pack(['b', u.bucket])))) throw new MetadataError('NoSuchBucket');
      tx.set(kUpload(u.bucket, u.key, rec.uploadId), encodeUpload(rec));
    });
    return rec;
  }

  getUpload(bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    return this.kv.read(async (tx) => this.view(await requireUpload(tx, bucket, key, uploadId)));
  }

  async getCompleted(uploadId: string): Promise<CompletedRecord | undefined> {
    const v = await this.kv.read((tx) => tx.get(kDone(uploadId)));
    return v && decodeDone(v);
  }

  async putPart(bucket: string, key: string, uploadId: string, part: PartRecord): Promise<void> {
    await this.kv.transact(async (tx) => {
      const up = await requireUpload(tx, bucket, key, uploadId);
      // a deleted bucket may still hold uploads not yet aborted (bucket-drop.ts): refuse parts
      if (!(await tx.get(pack(['b', bucket])))) throw new MetadataError('NoSuchUpload');
      // a dead completion's lapsed lease: reopen here, so its late steps fail their token check
      if (leaseLapsed(up, this.now(), this.leaseMs)) tx.set(kUpload(bucket, key, uploadId), encodeUpload(reopened(up)));
      else if (up.state !== 'open') throw new MetadataError('NoSuchUpload', 'The upload is being completed.');
      const old = await tx.get(kPart(uploadId, part.partNumber));
      if (old) freePart(tx, uploadId, decodePart(part.partNumber, old));
      tx.set(kPart(uploadId, part.partNumber), encodePart(part));
      if (part.blobId) tx.set(kPartRef(part.blobId, uploadId, part.partNumber), Buffer.from([1]));
    });
  }

  async getParts(uploadId: string, numbers: number[]): Promise<Map<number, PartRecord>> {
    return this.kv.read(async (tx) => {
      const out = new Map<number, PartRecord>();
      for (const n of numbers) {
        const v = await tx.get(kPart(uploadId, n));
        if (v) out.set(n, decodePart(n, v));
      }
      return out;
    });
  }

  async listParts(uploadId: string, after: number, limit: number): Promise<PartRecord[]> {
    const all = range(['p', uploadId]);
    const begin = after > 0 ? keyAfter(kPart(uploadId, after)) : all.begin;
    const space = pack(['p', uploadId]);
    const pairs = await this.kv.read((tx) => tx.getRange(begin, all.end, { limit: Math.max(1, limit) }));
    return pairs.map((p) => decodePart(unpackAfter(space, p.key)[0] as number, p.value));
  }

  async listUploads(input: ListUploadsInput): Promise<ListUploadsPage> {
    const page = await this.kv.read((tx) => listUploads(tx, input));
    return { ...page, uploads: page.uploads.map((u) => this.view(u)) };
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.kv.transact(async (tx) => {
      const up = await requireUpload(tx, bucket, key, uploadId);
      // a commit in flight may already have written its version: too late to abort
      if (up.state === 'committing') throw new MetadataError('NoSuchUpload', 'The upload is being completed.');
      tx.clear(kUpload(bucket, key, uploadId));
      tx.set(kRelease(uploadId), Buffer.alloc(0));
    });
  }

  async releaseUpload(uploadId: string): Promise<void> {
    await this.kv.transact(async (tx) => tx.set(kRelease(uploadId), Buffer.alloc(0)));
  }

  async beginCompletion(bucket: string, key: string, uploadId: string, token: string): Promise<UploadRecord> {
    return this.kv.transact(async (tx) => {
      const up = await requireUpload(tx, bucket, key, uploadId);
      if (up.state === 'committing') return up;
      const next: UploadRecord = { ...up, state: 'completing', token, leasedAt: this.now() };
      tx.set(kUpload(bucket, key, uploadId), encodeUpload(next));
      return next;
    });
  }

  async abandonCompletion(bucket: string, key: string, uploadId: string, token: string): Promise<void> {
    await this.kv.transact(async (tx) => {
      const v = await tx.get(kUpload(bucket, key, uploadId));
      if (!v) return;
      const up = decodeUpload(bucket, key, uploadId, v);
      // a failed commit (its conditions) also goes back: its version was never written
      if (up.state === 'open' || up.token !== token) return;
      tx.set(kUpload(bucket, key, uploadId), encodeUpload(reopened(up)));
    });
  }

  async holdCompletion(bucket: string, key: string, uploadId: string, token: string): Promise<void> {
    await this.kv.transact(async (tx) => {
      await this.requireToken(tx, bucket, key, uploadId, token);
    });
  }

  async writeIndex(bucket: string, key: string, uploadId: string, token: string, entries: PartIndexEntry[]): Promise<void> {
    await this.kv.transact(async (tx) => {
      await this.requireToken(tx, bucket, key, uploadId, token);
      for (const e of entries) {
        const raw = await tx.get(kPart(uploadId, e.partNumber));
        if (!raw) throw new MetadataError('NoSuchUpload', 'A part disappeared while completing.');
        const p = decodePart(e.partNumber, raw);
        if (p.token !== token) tx.set(kPart(uploadId, e.partNumber), encodePart({ ...p, token }));
        tx.set(kIndex(uploadId, e.ordinal), encodeIndex(e));
      }
    });
  }

  async markCommitting(bucket: string, key: string, uploadId: string, token: string, pending: PendingObject): Promise<void> {
    await this.kv.transact(async (tx) => {
      const { leasedAt: _l, ...up } = await this.requireToken(tx, bucket, key, uploadId, token);
      tx.set(kUpload(bucket, key, uploadId), encodeUpload({ ...up, state: 'committing', pending }));
    });
  }

  async finishCompletion(bucket: string, key: string, uploadId: string, done: CompletedRecord): Promise<void> {
    await this.kv.transact(async (tx) => {
      const v = await tx.get(kUpload(bucket, key, uploadId));
      if (!v) return; // finished already
      const up = decodeUpload(bucket, key, uploadId, v);
      tx.clear(kUpload(bucket, key, uploadId));
      tx.set(kDone(uploadId), encodeDone(done));
      tx.set(kTrim(uploadId), encode(up.token ?? ''));
    });
  }

  /**
   * The upload, still completing under `token`; renews the lease in `tx`. A lapsed lease that
   * nobody reopened is still ours: nothing could change the parts meanwhile.
   */
  private async requireToken(tx: KvTransaction, bucket: string, key: string, uploadId: string, token: string): Promise<UploadRecord> {
    const up = await requireUpload(tx, bucket, key, uploadId);
    if (up.state !== 'completing' || up.token !== token) {
      throw new MetadataError('OperationAborted', 'Another request is completing this upload, or its completion was given up.');
    }
    const held: UploadRecord = { ...up, leasedAt: this.now() };
    tx.set(kUpload(bucket, key, uploadId), encodeUpload(held));
    return held;
  }

  async indexEntry(uploadId: string, ordinal: number): Promise<PartIndexEntry | undefined> {
    const v = await this.kv.read((tx) => tx.get(kIndex(uploadId, ordinal)));
    return v && decodeIndex(ordinal, v);
  }

  async indexFrom(uploadId: string, ordinal: number, limit: number): Promise<PartIndexEntry[]> {
    const all = range(['pf', uploadId]);
    const space = pack(['pf', uploadId]);
    const pairs = await this.kv.read((tx) => tx.getRange(kIndex(uploadId, ordinal), all.end, { limit }));
    return pairs.map((p) => decodeIndex(unpackAfter(space, p.key)[0] as number, p.value));
  }

  ordinalAt(uploadId: string, partCount: number, offset: number): Promise<number> {
    return this.kv.read(async (tx) => {
      // the last ordinal whose offset ≤ the wanted one
      let lo = 1;
      let hi = partCount;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        const v = await tx.get(kIndex(uploadId, mid));
        if (!v) throw new Error(`part index of upload ${uploadId} is missing ordinal ${mid}`);
        if (decodeIndex(mid, v).offset <= offset) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    });
  }

  releaseQueued(budget?: number): Promise<number> {
    return releaseQueued(this.kv, budget);
  }
}
