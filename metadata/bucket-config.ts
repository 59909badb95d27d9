/**
 * Per-bucket configuration documents (CORS rules, lifecycle rules, bucket tags, the bucket's
 * ACL once changed, the public-bucket setting) and per-version ACLs of objects, beside the
 * object layer:
 *
 *   ('bc', bucket, kind)                 → { c: bucket createdAt, v: document }
 *   ('oa', bucket, key, versionId)       → { c: bucket createdAt, a: StoredAcl (a canned name or grants) }
 *
 * Each record carries the creation time of the bucket it was written for and is read in the
 * same snapshot as the bucket record: a record left behind by a deleted bucket (the gateway
 * clears them after DeleteBucket, but a crash may come between) never applies to a new bucket
 * of the same name. Writes check the bucket exists in their transaction.
 */
import type { KvReader, KvStore } from './kv.js';
import { KV_LIMITS } from './kv.js';
import { MetadataError } from './errors.js';
import { decode, decodeBucket, encode } from './records.js';
import { pack, subspaceRange } from './tuple.js';
import { kObjectAcl, kVersion } from './version-store.js';

import type { StoredAcl } from './acl.js';

export type { CannedAcl } from './acl.js';

/** the configuration kind of Erne's own public-bucket setting (`true`: anyone may read every object) */
export const PUBLIC_BUCKET_KIND = 'public';

export interface BucketConfigStore {
  /** the document, or undefined when none (or the bucket is gone) */
  get<T>(bucket: string, kind: string): Promise<T | undefined>;
  /** NoSuchBucket; the encoded document must fit one value (≤ 100 kB) */
  put(bucket: string, kind: string, value: unknown): Promise<void>;
  delete(bucket: string, kind: string): Promise<void>;
  /** the ACL given to one object version, if any (records of old hold a canned name) */
  getObjectAcl(bucket: string, key: string, versionId: string): Promise<StoredAcl | undefined>;
  /** NoSuchBucket; 'private' removes the record (private is what no record means) */
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

const kConfig = (bucket: string, kind: string) => pack(['bc', bucket, kind]);

async function bucketCreatedAt(tx: KvReader, bucket: string): Promise<number | undefined> {
  const b = await tx.get(pack(['b', bucket]));
  return b ? decodeBucket(b).createdAt : undefined;
}

async function readCurrent(kv: KvStore, bucket: string, key: Uint8Array): Promise<Stored | undefined> {
  return kv.read(async (tx) => {
    const [created, raw] = await Promise.all([bucketCreatedAt(tx, bucket), tx.get(key)]);
    if (created === undefined || raw === undefined) return undefined;
    const s = decode<Stored>(raw);
    return s.c === created ? s : undefined;
  });
}

async function write(
  kv: KvStore,
  bucket: string,
  key: Uint8Array,
  make: (created: number) => Stored | undefined,
  requires?: { key: Uint8Array; missing: MetadataError },
): Promise<void> {
  await kv.transact(async (tx) => {
    const created = await bucketCreatedAt(tx, bucket);
    if (created === undefined) throw new MetadataError('NoSuchBucket');
    // an object ACL is written only while its version exists (a delete removes both at once)
    if (requires && (await tx.get(requires.key)) === undefined) throw requires.missing;
    const s = make(created);
    if (s === undefined) {
      tx.clear(key);
      return;
    }
    const bytes = encode(s);
    if (bytes.length > KV_LIMITS.maxValueBytes) throw new MetadataError('InvalidArgument', 'The configuration document is too large.');
    tx.set(key, bytes);
  });
}

export function createBucketConfigStore(kv: KvStore): BucketConfigStore {
  return {
    async get<T>(bucket: string, kind: string): Promise<T | undefined> {
      return (await readCurrent(kv, bucket, kConfig(bucket, kind)))?.v as T | undefined;
    },
    async put(bucket, kind, value) {
      await write(kv, bucket, kConfig(bucket, kind), (c) => ({ c, v: value }));
    },
    async delete(bucket, kind) {
      await kv.transact(async (tx) => tx.clear(kConfig(bucket, kind)));
    },
    async getObjectAcl(bucket, key, versionId) {
      return (await readCurrent(kv, bucket, kObjectAcl(bucket, key, versionId)))?.a;
    },
    async putObjectAcl(bucket, key, versionId, acl) {
      await write(kv, bucket, kObjectAcl(bucket, key, versionId), (c) => (acl === 'private' ? undefined : { c, a: acl }), {
        key: kVersion(bucket, key, versionId),
        missing: new MetadataError('NoSuchVersion', 'The specified version does not exist.'),
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
