/**
 * Per-bucket configuration documents (CORS rules, lifecycle rules, bucket tags, the bucket's
 * ACL once changed, the policy, the public-bucket setting) and per-version ACLs of objects,
 * beside the object layer:
 *
 *   ('bc', bucket, kind)                 → { c: bucket createdAt, v: document }
 *   ('oa', bucket, key, versionId)       → { c: bucket createdAt, a: StoredAcl (a canned name or grants) }
 *
 * Each record carries the creation time of the bucket it was written for and is read in the
 * same snapshot as the bucket record: a record left behind by a deleted bucket (the gateway
 * clears them after DeleteBucket, but a crash may come between) never applies to a new bucket
 * of the same name. Writes check the bucket exists in their transaction.
 *
 * Both replicate as last-writer-wins registers (bucket-registers.ts, version-registers.ts):
 * each write is stamped after the stamp already stored and records its change in its own
 * transaction. An upload's ACL waiting for its completion is the upload's region's alone.
 */
import type { StoredAcl } from './acl.js';
import { applyBucketRegister, kConfig, type BucketRegisterChange } from './bucket-registers.js';
import { MetadataError } from './errors.js';
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { KV_LIMITS } from './kv.js';
import { decode, decodeBucket, encode } from './records.js';
import { RegionWriter, type WriterOptions } from './region-writer.js';
import { kBucketStamp, readStamp, readVersionRegister } from './registers.js';
import { pack, subspaceRange } from './tuple.js';
import { applyVersionRegister } from './version-registers.js';
import { kObjectAcl, kVersion } from './version-store.js';

export type { CannedAcl } from './acl.js';

/** the configuration kind of Erne's own public-bucket setting (`true`: anyone may read every object) */
export const PUBLIC_BUCKET_KIND = 'public';

/** the kind under which an upload's ACL waits for its completion (kept in the upload's region) */
export const uploadAclKind = (uploadId: string) => `${UPLOAD_ACL_PREFIX}${uploadId}`;
const UPLOAD_ACL_PREFIX = 'upload-acl/';

export interface BucketConfigStore {
  /** the document, or undefined when none (or the bucket is gone) */
  get<T>(bucket: string, kind: string): Promise<T | undefined>;
  /** NoSuchBucket; the encoded document must fit one value (≤ 100 kB) */
  put(bucket: string, kind: string, value: unknown): Promise<void>;
  delete(bucket: string, kind: string): Promise<void>;
  /** the ACL given to one object version, if any (records of old hold a canned name) */
  getObjectAcl(bucket: string, key: string, versionId: string): Promise<StoredAcl | undefined>;
  /** NoSuchBucket, NoSuchVersion; 'private' removes the record (private is what no record means) */
  putObjectAcl(bucket: string, key: string, versionId: string, acl: StoredAcl): Promise<void>;
  /** forgets everything stored for a bucket, in bounded transactions */
  clearBucket(bucket: string): Promise<void>;
}

interface Stored {
  c: number;
  v?: unknown;
  a?: StoredAcl;
}

const CLEAR_BATCH = 1000;

async function bucketCreatedAt(tx: KvReader, bucket: string): Promise<number | undefined> {
  const b = await tx.get(pack(['b', bucket]));
  return b ? decodeBucket(b).createdAt : undefined;
}

async function requireCreatedAt(tx: KvReader, bucket: string): Promise<number> {
  const created = await bucketCreatedAt(tx, bucket);
  if (created === undefined) throw new MetadataError('NoSuchBucket');
  return created;
}

async function readCurrent(kv: KvStore, bucket: string, key: Uint8Array): Promise<Stored | undefined> {
  return kv.read(async (tx) => {
    const [created, raw] = await Promise.all([bucketCreatedAt(tx, bucket), tx.get(key)]);
    if (created === undefined || raw === undefined) return undefined;
    const s = decode<Stored>(raw);
    return s.c === created ? s : undefined;
  });
}

function checkFits(value: unknown): void {
  if (encode({ c: Number.MAX_SAFE_INTEGER, v: value }).length > KV_LIMITS.maxValueBytes) {
    throw new MetadataError('InvalidArgument', 'The configuration document is too large.');
  }
}

/** `clock`: the object layer's, so both stamp with one clock */
export function createBucketConfigStore(kv: KvStore, opts: WriterOptions): BucketConfigStore {
  const w = new RegionWriter(opts);

  /** in `tx`: a setting (value null: removed) stamped after the last one, and its change recorded */
  async function setRegister(tx: KvTransaction, bucket: string, kind: string, value: unknown): Promise<void> {
    const created = await requireCreatedAt(tx, bucket);
    if (kind.startsWith(UPLOAD_ACL_PREFIX)) {
      if (value === null) tx.clear(kConfig(bucket, kind));
      else tx.set(kConfig(bucket, kind), encode({ c: created, v: value }));
      return;
    }
    const stamp = w.stampAfter(await readStamp(tx, kBucketStamp(bucket, kind)));
    const c: BucketRegisterChange = { kind: 'bucket-register', bucketCreatedAt: created, bucket, name: kind, value, stamp };
    await applyBucketRegister(tx, c);
    w.emit(tx, c);
  }

  return {
    async get<T>(bucket: string, kind: string): Promise<T | undefined> {
      return (await readCurrent(kv, bucket, kConfig(bucket, kind)))?.v as T | undefined;
    },
    async put(bucket, kind, value) {
      checkFits(value);
      await kv.transact((tx) => setRegister(tx, bucket, kind, value));
    },
    async delete(bucket, kind) {
      await kv.transact(async (tx) => {
        // a bucket that is gone has nothing to remove (its records go with it)
        if ((await bucketCreatedAt(tx, bucket)) === undefined) tx.clear(kConfig(bucket, kind));
        else await setRegister(tx, bucket, kind, null);
      });
    },
    async getObjectAcl(bucket, key, versionId) {
      return (await readCurrent(kv, bucket, kObjectAcl(bucket, key, versionId)))?.a;
    },
    async putObjectAcl(bucket, key, versionId, acl) {
      await kv.transact(async (tx) => {
        const created = await requireCreatedAt(tx, bucket);
        // an object ACL is written only while its version exists (a delete removes both at once)
        if ((await tx.get(kVersion(bucket, key, versionId))) === undefined) throw new MetadataError('NoSuchVersion', 'The specified version does not exist.');
        const reg = await readVersionRegister(tx, bucket, key, versionId, 'acl');
        const stamp = w.stampAfter(versionId, reg?.s);
        const c = { kind: 'version-register', bucketCreatedAt: created, bucket, key, versionId, name: 'acl', value: acl, stamp } as const;
        await applyVersionRegister(tx, c);
        w.emit(tx, c);
      });
    },
    async clearBucket(bucket) {
      for (const space of ['bc', 'oa']) {
        const r = subspaceRange([space, bucket]);
        // object ACLs may be many: clear them a bounded page at a time
        for (;;) {
          const more = await kv.transact(async (tx) => {
            const page = await tx.getRange(r.begin, r.end, { limit: CLEAR_BATCH });
            if (page.length === 0) return false;
            tx.clearRange(r.begin, Buffer.concat([page[page.length - 1]!.key, Buffer.from([0])]));
            return page.length === CLEAR_BATCH;
          });
          if (!more) break;
        }
      }
    },
  };
}
