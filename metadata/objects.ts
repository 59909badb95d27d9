/**
 * The object layer over any KvStore. Object versions are laid out as metadata/version-store.ts
 * describes ('c' current index, 'v' every version, 'nv' null pointer, 'd' inline bytes,
 * 'r' blob references, 'g' garbage); besides them:
 *
 *   ('k', accessKeyId)                      → access key record (metadata/access-keys.ts)
 *   ('b', bucket)                           → bucket record
 *   ('bd', bucket), ('bx', bucket)          → a deleted bucket whose records are still being
 *                                             cleared; the newest incarnation deleted (bucket-drop.ts)
 *
 * A GET of the current version is one point read (blob) or two (inline). Listing contents
 * carry no `body` (they come from the index, which never holds bytes). Versioning follows
 * the bucket's state: Enabled keeps every version; Unversioned and Suspended writes make the
 * null version, replacing the previous null version.
 *
 * Every write follows the merge (metadata/merge.ts) as a replicated change would, and records
 * its change through the region's writer (metadata/region-writer.ts) in its own transaction:
 * versions and deletes (metadata/version-writes.ts), tags, versioning and access keys.
 */
import { deleteAccessKeyIn, kAccessKey, putAccessKeyIn } from './access-keys.js';
import { dropBucketBatch, finishDrop, goneUpTo, isDropping, markBucketGone } from './bucket-drop.js';
import { applyBucketRegister } from './bucket-registers.js';
import { VERSIONING_REGISTER } from './changes.js';
import { clearClosing } from './bucket-closing.js';
import { MetadataError } from './errors.js';
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { KV_LIMITS } from './kv.js';
import { listIndex } from './listing.js';
import type { ObjectLayer } from './object-layer.js';
import {
  decode,
  decodeAccessKey,
  decodeBucket,
  decodeVersion,
  encodeBucket,
  type DecodedVersion,
} from './records.js';
import { RegionWriter, type WriterOptions } from './region-writer.js';
import { kBucketStamp, readStamp, readVersionRegister } from './registers.js';
import { keyAfter, pack, stringPrefixRange, subspaceRange, unpackAfter } from './tuple.js';
import type {
  AccessKeyRecord,
  BucketRecord,
  CopyInput,
  DeleteItem,
  DeleteResult,
  GarbageBlob,
  Hlc,
  ListBucketsInput,
  ListObjectsInput,
  ListObjectsPage,
  ListVersionsInput,
  ListVersionsPage,
  NewObject,
  ObjectVersion,
  WriteConditions,
} from './types.js';
import { listVersions } from './version-listing.js';
import { parseVersionId } from './version-id.js';
import { s3VersionId } from './version-order.js';
import { applyVersionRegister } from './version-registers.js';
import { VersionWrites, type VersionFields } from './version-writes.js';
import { currentRecord, findVersion, kBucket, kData, kGarbage, newestVersions } from './version-store.js';

const DELETE_BATCH = 100;
const PAGE = 1000;

/** `changes`: the replication sink (absent: one region); `clock`: share it with the bucket-config store */
export function createObjectLayer(kv: KvStore, opts: WriterOptions): ObjectLayer {
  return new KvObjectLayer(kv, new RegionWriter(opts));
}

/** an inline body is one metadata value: refused before any transaction when it cannot be */
function checkInlineFits(obj: NewObject): void {
  if (obj.body.kind === 'inline' && obj.body.data.length > KV_LIMITS.maxValueBytes) {
    throw new MetadataError('InvalidArgument', 'inline body too large for a metadata value');
  }
}

class KvObjectLayer implements ObjectLayer {
  private readonly writes: VersionWrites;

  constructor(
    private readonly kv: KvStore,
    private readonly w: RegionWriter,
  ) {
    this.writes = new VersionWrites(w);
  }

  observeClock(hlc: Hlc): void {
    this.w.observe(hlc);
  }

  // access keys

  async putAccessKey(rec: AccessKeyRecord): Promise<void> {
    await this.kv.transact((tx) => putAccessKeyIn(tx, this.w, rec));
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const v = await this.kv.read((tx) => tx.get(kAccessKey(accessKeyId)));
    return v && decodeAccessKey(v);
  }

  async listAccessKeys(): Promise<AccessKeyRecord[]> {
    return (await this.readAll(['k'])).map((p) => decodeAccessKey(p.value));
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.kv.transact((tx) => deleteAccessKeyIn(tx, this.w, accessKeyId));
  }

  // buckets

  async createBucket(
    rec: Omit<BucketRecord, 'createdAt' | 'versioning' | 'acl'> & Partial<BucketRecord>,
  ): Promise<BucketRecord> {
    return this.kv.transact(async (tx) => {
      const existing = await tx.get(kBucket(rec.name));
      if (!existing && (await isDropping(tx, rec.name))) {
        throw new MetadataError('OperationAborted', 'A bucket of this name was just deleted and is still being cleaned up. Try again.');
      }
      if (existing) {
        const owner = decodeBucket(existing).owner;
        throw new MetadataError(owner === rec.owner ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists');
      }
      // an incarnation is named by its creation time: a new one is later than any deleted before it,
      // and not earlier than its bucket-created change's stamp, so that a creation time under the
      // tombstone horizon means the change reached every region (bucket-drop.ts says why it matters)
      const gone = await goneUpTo(tx, rec.name);
      const stamp = this.w.stampAfter();
      const full: BucketRecord = {
        name: rec.name,
        owner: rec.owner,
        region: rec.region || this.w.region,
        createdAt: rec.createdAt ?? Math.max(Date.now(), parseVersionId(stamp)!.hlc.wall, gone === undefined ? 0 : gone + 1),
        versioning: rec.versioning ?? 'Unversioned',
        acl: rec.acl ?? 'private',
      };
      tx.set(kBucket(rec.name), encodeBucket(full));
      this.w.emit(tx, { kind: 'bucket-created', record: full, stamp });
      return full;
    });
  }

  async getBucket(name: string): Promise<BucketRecord> {
    return this.kv.read((tx) => requireBucket(tx, name));
  }

  async listBuckets(): Promise<BucketRecord[]> {
    return (await this.readAll(['b'])).map((p) => decodeBucket(p.value));
  }

  async listBucketsPage(input: ListBucketsInput): Promise<BucketRecord[]> {
    const range = stringPrefixRange(pack(['b']), input.prefix ?? '');
    let start = range.begin;
    if (input.after !== undefined) {
      const after = keyAfter(kBucket(input.after));
      if (Buffer.compare(after, start) > 0) start = after;
    }
    if (Buffer.compare(start, range.end) >= 0) return [];
    const pairs = await this.kv.read((tx) => tx.getRange(start, range.end, { limit: Math.max(1, input.limit) }));
    return pairs.map((p) => decodeBucket(p.value));
  }

  async deleteBucket(name: string): Promise<void> {
    const more = await this.kv.transact(async (tx) => {
      const b = await requireBucket(tx, name);
      for (const space of ['c', 'v']) {
        const r = subspaceRange([space, name]);
        if ((await tx.getRange(r.begin, r.end, { limit: 1 })).length > 0) throw new MetadataError('BucketNotEmpty');
      }
      tx.clear(kBucket(name));
      clearClosing(tx, name);
      const stamp = this.w.stampAfter();
      await markBucketGone(tx, name, b.createdAt, parseVersionId(stamp)!.hlc);
      this.w.emit(tx, { kind: 'bucket-deleted', name, createdAt: b.createdAt, stamp });
      // its uploads in progress are aborted, as on S3, and its marks cleared: here, or in later batches (bucket-drop.ts)
      return dropBucketBatch(tx, name);
    });
    if (more) await finishDrop(this.kv, name);
  }

  // objects

  async putObject(obj: NewObject, cond?: WriteConditions): Promise<ObjectVersion> {
    checkInlineFits(obj);
    return this.kv.transact(async (tx) => this.commitNew(tx, await requireBucket(tx, obj.bucket), obj, cond));
  }

  async putObjects(objs: NewObject[]): Promise<ObjectVersion[]> {
    objs.forEach(checkInlineFits);
    return this.kv.transact(async (tx) => {
      const buckets = new Map<string, BucketRecord>();
      const out: ObjectVersion[] = [];
      for (const obj of objs) {
        let b = buckets.get(obj.bucket);
        if (!b) buckets.set(obj.bucket, (b = await requireBucket(tx, obj.bucket)));
        out.push(await this.commitNew(tx, b, obj));
      }
      return out;
    });
  }

  private commitNew(tx: KvTransaction, b: BucketRecord, obj: NewObject, cond?: WriteConditions): Promise<ObjectVersion> {
    const { bucket: _b, key: _k, ...fields } = obj;
    return this.writes.commit(tx, b, obj.key, fields, cond);
  }

  async getObject(bucket: string, key: string, versionId?: string): Promise<ObjectVersion> {
    return this.kv.read(async (tx) => {
      const found = await readVersion(tx, bucket, key, versionId);
      const v = found.version;
      if (found.inline) {
        const data = await tx.get(kData(bucket, key, v.versionId));
        v.body = { kind: 'inline', data: data ?? new Uint8Array(0) };
      }
      return v;
    });
  }

  async deleteObject(bucket: string, key: string, versionId?: string): Promise<DeleteResult> {
    return this.kv.transact(async (tx) => {
      const b = await requireBucket(tx, bucket);
      return this.writes.delete(tx, b, key, versionId);
    });
  }

  async deleteObjects(
    bucket: string,
    items: DeleteItem[],
  ): Promise<(DeleteResult | { key: string; versionId?: string; error: { code: string; message: string } })[]> {
    const out: DeleteResult[] = [];
    for (let i = 0; i < items.length; i += DELETE_BATCH) {
      const chunk = items.slice(i, i + DELETE_BATCH);
      const done = await this.kv.transact(async (tx) => {
        const b = await requireBucket(tx, bucket);
        const results: DeleteResult[] = [];
        for (const it of chunk) results.push(await this.writes.delete(tx, b, it.key, it.versionId, it.ifCurrent));
        return results;
      });
      out.push(...done);
    }
    return out;
  }

  // versioning, tags, copy

  async setBucketVersioning(bucket: string, status: 'Enabled' | 'Suspended'): Promise<BucketRecord> {
    return this.kv.transact(async (tx) => {
      const b = await requireBucket(tx, bucket);
      const stamp = this.w.stampAfter(await readStamp(tx, kBucketStamp(bucket, VERSIONING_REGISTER)));
      const c = { kind: 'bucket-register', bucketCreatedAt: b.createdAt, bucket, name: VERSIONING_REGISTER, value: status, stamp } as const;
      await applyBucketRegister(tx, c);
      this.w.emit(tx, c);
      return { ...b, versioning: status };
    });
  }

  async listObjectVersions(input: ListVersionsInput): Promise<ListVersionsPage> {
    return this.kv.read(async (tx) => {
      await requireBucket(tx, input.bucket);
      return listVersions(tx, input);
    });
  }

  async setObjectTags(bucket: string, key: string, versionId: string | undefined, tags: Record<string, string>): Promise<ObjectVersion> {
    return this.kv.transact(async (tx) => {
      const v = (await readVersion(tx, bucket, key, versionId)).version;
      const b = await requireBucket(tx, bucket);
      const reg = await readVersionRegister(tx, bucket, key, v.versionId, 'tags');
      const stamp = this.w.stampAfter(v.versionId, reg?.s);
      const c = { kind: 'version-register', bucketCreatedAt: b.createdAt, bucket, key, versionId: v.versionId, name: 'tags', value: tags, stamp } as const;
      await applyVersionRegister(tx, c);
      this.w.emit(tx, c);
      v.tags = tags;
      return v;
    });
  }

  async copyObject(input: CopyInput, cond?: WriteConditions): Promise<{ source: ObjectVersion; version: ObjectVersion }> {
    return this.kv.transact(async (tx) => {
      const src = input.source;
      const found = await readVersion(tx, src.bucket, src.key, src.versionId);
      const source = found.version;
      const dst = await requireBucket(tx, input.bucket);
      if (found.inline) {
        const data = await tx.get(kData(src.bucket, src.key, source.versionId));
        source.body = { kind: 'inline', data: data ?? new Uint8Array(0) };
      }
      if (!source.body || source.body.kind === 'parts' || source.body.kind === 'remote') {
        throw new MetadataError('InvalidArgument', 'a multipart source, or one whose bytes another region holds, is copied by its bytes');
      }
      const meta = input.derive(source);
      const fields: VersionFields = {
        size: source.size,
        etag: source.etag,
        owner: input.owner,
        headers: meta.headers,
        userMetadata: meta.userMetadata,
        checksums: source.checksums,
        body: source.body,
        ...(meta.tags ? { tags: meta.tags } : {}),
      };
      const version = await this.writes.commit(tx, dst, input.key, fields, cond);
      return { source, version };
    });
  }

  async listObjects(input: ListObjectsInput): Promise<ListObjectsPage> {
    return this.kv.read(async (tx) => {
      await requireBucket(tx, input.bucket);
      const res = await listIndex(tx, pack(['c', input.bucket]), input, (key, pair) => {
        return decodeVersion(input.bucket, key, pair.value).version;
      });
      const page: ListObjectsPage = {
        contents: res.entries.map((e) => e.value),
        commonPrefixes: res.commonPrefixes,
        isTruncated: res.isTruncated,
      };
      if (res.last !== undefined) page.last = res.last;
      return page;
    });
  }

  // blob bookkeeping

  async isBlobReferenced(blobId: string): Promise<boolean> {
    const r = subspaceRange(['r', blobId]);
    return this.kv.read(async (tx) => (await tx.getRange(r.begin, r.end, { limit: 1 })).length > 0);
  }

  async garbage(limit: number): Promise<GarbageBlob[]> {
    const r = subspaceRange(['g']);
    const pairs = await this.kv.read((tx) => tx.getRange(r.begin, r.end, { limit: Math.max(1, limit) }));
    const space = pack(['g']);
    return pairs.map((p) => ({ blobId: unpackAfter(space, p.key)[0] as string, node: decode<string>(p.value) }));
  }

  async clearGarbage(blobIds: string[]): Promise<void> {
    for (let i = 0; i < blobIds.length; i += PAGE) {
      const chunk = blobIds.slice(i, i + PAGE);
      await this.kv.transact(async (tx) => {
        for (const id of chunk) tx.clear(kGarbage(id));
      });
    }
  }

  async close(): Promise<void> {
    await this.kv.close();
  }

  /** every pair of a small subspace, in bounded reads */
  private async readAll(items: string[]) {
    const { begin, end } = subspaceRange(items);
    const all: { key: Uint8Array; value: Uint8Array }[] = [];
    let start = begin;
    for (;;) {
      const page = await this.kv.read((tx) => tx.getRange(start, end, { limit: PAGE }));
      all.push(...page);
      if (page.length < PAGE) return all;
      start = Buffer.concat([page[page.length - 1]!.key, Buffer.from([0])]);
    }
  }
}

async function requireBucket(tx: KvReader, name: string): Promise<BucketRecord> {
  const v = await tx.get(kBucket(name));
  if (!v) throw new MetadataError('NoSuchBucket');
  return decodeBucket(v);
}

/**
 * The current version (NoSuchKey, with the delete marker when one is current) or a given one
 * (NoSuchVersion; MethodNotAllowed for a delete marker), NoSuchBucket when the bucket is gone.
 */
async function readVersion(tx: KvReader, bucket: string, key: string, versionId?: string): Promise<DecodedVersion> {
  const cur = await currentRecord(tx, bucket, key);
  if (cur && (versionId === undefined || versionId === cur.version.versionId || versionId === s3VersionId(cur.version))) return cur;
  await requireBucket(tx, bucket);
  if (versionId === undefined) {
    const [newest] = await newestVersions(tx, bucket, key, 1);
    throw new MetadataError('NoSuchKey', undefined, newest?.deleteMarker ? markerInfo(newest) : undefined);
  }
  const found = await findVersion(tx, bucket, key, versionId);
  if (!found) throw new MetadataError('NoSuchVersion');
  if (found.version.deleteMarker) throw new MetadataError('MethodNotAllowed', undefined, markerInfo(found.version));
  return found;
}

function markerInfo(v: ObjectVersion) {
  return { versionId: s3VersionId(v), lastModified: v.lastModified };
}
