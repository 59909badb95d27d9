/**
 * The object layer over any KvStore. Object versions are laid out as metadata/version-store.ts
 * describes ('c' current index, 'v' every version, 'nv' null pointer, 'd' inline bytes,
 * 'r' blob references, 'g' garbage); besides them:
 *
 *   ('k', accessKeyId)                      → access key record
 *   ('b', bucket)                           → bucket record
 *   ('bd', bucket)                          → a deleted bucket whose uploads are still being
 *                                             aborted (metadata/bucket-drop.ts)
 *
 * A GET of the current version is one point read (blob) or two (inline). Listing contents
 * carry no `body` (they come from the index, which never holds bytes). Versioning follows
 * the bucket's state: Enabled keeps every version; Unversioned and Suspended writes make the
 * null version, replacing the previous null version.
 */
import { abortBucketUploads, finishDrop, isDropping } from './bucket-drop.js';
import { MetadataError } from './errors.js';
import { HybridClock, compareHlc } from './hlc.js';
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { KV_LIMITS } from './kv.js';
import { listIndex } from './listing.js';
import type { ObjectLayer } from './object-layer.js';
import {
  decode,
  decodeAccessKey,
  decodeBucket,
  decodeVersion,
  encodeAccessKey,
  encodeBucket,
  type DecodedVersion,
} from './records.js';
import { keyAfter, pack, stringPrefixRange, subspaceRange, unpackAfter } from './tuple.js';
import type {
  AccessKeyRecord,
  BucketRecord,
  CopyInput,
  DeleteItem,
  DeleteResult,
  GarbageBlob,
  ListBucketsInput,
  ListObjectsInput,
  ListObjectsPage,
  ListVersionsInput,
  ListVersionsPage,
  NewObject,
  ObjectVersion,
  WriteConditions,
} from './types.js';
import { makeVersionId } from './version-id.js';
import { listVersions } from './version-listing.js';
import { s3VersionId } from './version-order.js';
import {
  currentRecord,
  findVersion,
  kBucket,
  kData,
  kGarbage,
  newestSeen,
  newestVersions,
  removeVersion,
  rewriteVersion,
  writeNewestVersion,
} from './version-store.js';

const DELETE_BATCH = 100;
const PAGE = 1000;

const kAccessKey = (id: string) => pack(['k', id]);

/** what a new version is made of, besides what the layer fills in */
type VersionFields = Omit<NewObject, 'bucket' | 'key'> & { deleteMarker?: boolean };

export interface ObjectLayerOptions {
  region: string;
  /**
   * the region's clock: the one replication's apply tells of every remote time, so a write
   * made here after it sorts after what was learnt. Default: a clock of this layer's own.
   */
  clock?: HybridClock;
}

export function createObjectLayer(kv: KvStore, opts: ObjectLayerOptions): ObjectLayer {
  makeVersionId({ wall: 0, logical: 0 }, opts.region); // refuses a region no id can carry
  return new KvObjectLayer(kv, opts.region, opts.clock ?? new HybridClock());
}

/** an inline body is one metadata value: refused before any transaction when it cannot be */
function checkInlineFits(obj: NewObject): void {
  if (obj.body.kind === 'inline' && obj.body.data.length > KV_LIMITS.maxValueBytes) {
    throw new MetadataError('InvalidArgument', 'inline body too large for a metadata value');
  }
}

class KvObjectLayer implements ObjectLayer {
  constructor(
    private readonly kv: KvStore,
    private readonly region: string,
    private readonly clock: HybridClock,
  ) {}

  // access keys

  async putAccessKey(rec: AccessKeyRecord): Promise<void> {
    await this.kv.transact(async (tx) => tx.set(kAccessKey(rec.accessKeyId), encodeAccessKey(rec)));
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const v = await this.kv.read((tx) => tx.get(kAccessKey(accessKeyId)));
    return v && decodeAccessKey(v);
  }

  async listAccessKeys(): Promise<AccessKeyRecord[]> {
    return (await this.readAll(['k'])).map((p) => decodeAccessKey(p.value));
  }

  async deleteAccessKey(accessKeyId: string): Promise<boolean> {
    return this.kv.transact(async (tx) => {
      if ((await tx.get(kAccessKey(accessKeyId))) === undefined) return false;
      tx.clear(kAccessKey(accessKeyId));
      return true;
    });
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
      const full: BucketRecord = {
        name: rec.name,
        owner: rec.owner,
        region: rec.region || this.region,
        createdAt: rec.createdAt ?? Date.now(),
        versioning: rec.versioning ?? 'Unversioned',
        acl: rec.acl ?? 'private',
      };
      tx.set(kBucket(rec.name), encodeBucket(full));
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
      await requireBucket(tx, name);
      for (const space of ['c', 'v']) {
        const r = subspaceRange([space, name]);
        if ((await tx.getRange(r.begin, r.end, { limit: 1 })).length > 0) throw new MetadataError('BucketNotEmpty');
      }
      tx.clear(kBucket(name));
      // its uploads in progress are aborted, as on S3: here, or in later batches (bucket-drop.ts)
      return abortBucketUploads(tx, name);
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
    return this.commit(tx, b, obj.key, fields, cond);
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
      return this.deleteInTx(tx, b, key, versionId);
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
        for (const it of chunk) results.push(await this.deleteInTx(tx, b, it.key, it.versionId, it.ifCurrent));
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
      const next = { ...b, versioning: status };
      tx.set(kBucket(bucket), encodeBucket(next));
      return next;
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
      v.tags = tags;
      await rewriteVersion(tx, v);
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
      if (!source.body || source.body.kind === 'parts') {
        throw new MetadataError('InvalidArgument', 'a multipart source is copied by its bytes');
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
      const version = await this.commit(tx, dst, input.key, fields, cond);
      return { source, version };
    });
  }

  /**
   * Writes the key's newest version in `tx`: conditions against the current one, an HLC
   * newer than every version of the key, and the null-version rule of the bucket's state.
   */
  private async commit(tx: KvTransaction, b: BucketRecord, key: string, f: VersionFields, cond?: WriteConditions): Promise<ObjectVersion> {
    const cur = (await currentRecord(tx, b.name, key))?.version;
    checkConditions(cur, cond);
    // a version must be newer than all the key has seen, even if our clock is behind
    let hlc = this.clock.now();
    for (const seen of await newestSeen(tx, b.name, key)) if (compareHlc(seen, hlc) >= 0) hlc = this.clock.update(seen);
    const isNull = b.versioning !== 'Enabled';
    if (isNull) {
      const old = await findVersion(tx, b.name, key, 'null');
      if (old) await removeVersion(tx, old.version);
    }
    const version: ObjectVersion = {
      bucket: b.name,
      key,
      versionId: makeVersionId(hlc, this.region),
      hlc,
      region: this.region,
      deleteMarker: !!f.deleteMarker,
      size: f.size,
      etag: f.etag,
      lastModified: hlc.wall,
      owner: f.owner,
      headers: f.headers,
      userMetadata: f.userMetadata,
      checksums: f.checksums,
      ...(f.deleteMarker ? {} : { body: f.body }),
      ...(isNull ? { isNull: true } : {}),
      ...(f.tags && Object.keys(f.tags).length ? { tags: f.tags } : {}),
    };
    writeNewestVersion(tx, version);
    return version;
  }

  /**
   * S3 DELETE. Without a version id: unversioned buckets lose the object; versioned ones get
   * a delete marker (the null version when suspended). With one: that version goes for good.
   */
  private async deleteInTx(tx: KvTransaction, b: BucketRecord, key: string, versionId?: string, ifCurrent?: string): Promise<DeleteResult> {
    if (ifCurrent !== undefined && (await currentRecord(tx, b.name, key))?.version.versionId !== ifCurrent) {
      return { key, deleteMarker: false, skipped: true };
    }
    if (versionId === undefined && b.versioning !== 'Unversioned') {
      const marker = await this.commit(tx, b, key, {
        deleteMarker: true,
        size: 0,
        etag: '',
        owner: b.owner,
        headers: {},
        userMetadata: {},
        checksums: {},
        body: { kind: 'inline', data: new Uint8Array(0) },
      });
      return { key, versionId: s3VersionId(marker), deleteMarker: true };
    }
    const found = versionId === undefined ? await currentRecord(tx, b.name, key) : await findVersion(tx, b.name, key, versionId);
    if (!found) return versionId === undefined ? { key, deleteMarker: false } : { key, versionId, deleteMarker: false };
    await removeVersion(tx, found.version);
    return { key, versionId: versionId ?? s3VersionId(found.version), deleteMarker: found.version.deleteMarker };
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

/** S3 conditional writes: If-Match needs the key (404 NoSuchKey when absent, as S3 does) */
function checkConditions(cur: ObjectVersion | undefined, cond: WriteConditions | undefined): void {
  if (!cond) return;
  if (cond.ifNoneMatch !== undefined) {
    const want = stripQuotes(cond.ifNoneMatch);
    if (cur && (want === '*' || want === cur.etag)) throw new MetadataError('PreconditionFailed');
  }
  if (cond.ifMatch !== undefined) {
    if (!cur) throw new MetadataError('NoSuchKey');
    const want = stripQuotes(cond.ifMatch);
    if (want !== '*' && want !== cur.etag) throw new MetadataError('PreconditionFailed');
  }
}

function stripQuotes(etag: string): string {
  const t = etag.trim();
  const weak = t.startsWith('W/') ? t.slice(2) : t;
  return weak.length >= 2 && weak.startsWith('"') && weak.endsWith('"') ? weak.slice(1, -1) : weak;
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
