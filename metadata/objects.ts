/**
 * The object layer over any KvStore. Key layout (tuple-encoded, metadata/tuple.ts):
 *
 *   ('k', accessKeyId)                      → access key record
 *   ('b', bucket)                           → bucket record
 *   ('c', bucket, key)                      → the current version record, what GET and listing
 *                                             read; absent when the key is absent (a delete
 *                                             marker as newest version removes it)
 *   ('v', bucket, key, versionId)           → non-current version records (versioned buckets;
 *                                             nothing writes them yet)
 *   ('d', bucket, key, versionId)           → inline body bytes of that version, apart so a
 *                                             listing never reads bodies
 *   ('r', blobId, bucket, key, versionId)   → a version refers to this blob (one range read
 *                                             with limit 1 answers isBlobReferenced)
 *   ('g', blobId)                           → blob nobody refers to any more: its node
 *
 * A GET of the current version is one point read (blob) or two (inline). Listing contents
 * carry no `body` (they come from the index, which never holds bytes).
 */
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
  encode,
  encodeAccessKey,
  encodeBucket,
  encodeVersion,
} from './records.js';
import { pack, subspaceRange, unpackAfter } from './tuple.js';
import type {
  AccessKeyRecord,
  BucketRecord,
  DeleteResult,
  GarbageBlob,
  ListObjectsInput,
  ListObjectsPage,
  NewObject,
  ObjectVersion,
  WriteConditions,
} from './types.js';
import { makeVersionId } from './version-id.js';
import { releaseParts } from './multipart-release.js';

const DELETE_BATCH = 100;
const PAGE = 1000;
const PRESENT = Buffer.from([1]);

const kBucket = (bucket: string) => pack(['b', bucket]);
const kCurrent = (bucket: string, key: string) => pack(['c', bucket, key]);
const kVersion = (bucket: string, key: string, vid: string) => pack(['v', bucket, key, vid]);
const kData = (bucket: string, key: string, vid: string) => pack(['d', bucket, key, vid]);
const kRef = (blobId: string, bucket: string, key: string, vid: string) => pack(['r', blobId, bucket, key, vid]);
const kGarbage = (blobId: string) => pack(['g', blobId]);
const kAccessKey = (id: string) => pack(['k', id]);

export function createObjectLayer(kv: KvStore, opts: { region: string }): ObjectLayer {
  makeVersionId({ wall: 0, logical: 0 }, opts.region); // refuses a region no id can carry
  return new KvObjectLayer(kv, opts.region);
}

class KvObjectLayer implements ObjectLayer {
  private readonly clock = new HybridClock();

  constructor(
    private readonly kv: KvStore,
    private readonly region: string,
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

  async deleteBucket(name: string): Promise<void> {
    await this.kv.transact(async (tx) => {
      await requireBucket(tx, name);
      for (const space of ['c', 'v', 'u']) {
        const r = subspaceRange([space, name]);
        if ((await tx.getRange(r.begin, r.end, { limit: 1 })).length > 0) throw new MetadataError('BucketNotEmpty');
      }
      tx.clear(kBucket(name));
    });
  }

  // objects

  async putObject(obj: NewObject, cond?: WriteConditions): Promise<ObjectVersion> {
    if (obj.body.kind === 'inline' && obj.body.data.length > KV_LIMITS.maxValueBytes) {
      throw new MetadataError('InvalidArgument', 'inline body too large for a metadata value');
    }
    return this.kv.transact(async (tx) => {
      await requireBucket(tx, obj.bucket);
      const curBytes = await tx.get(kCurrent(obj.bucket, obj.key));
      const cur = curBytes && decodeVersion(obj.bucket, obj.key, curBytes).version;
      checkConditions(cur, cond);
      // a version must be newer than the one it replaces, even if our wall clock is behind
      let hlc = this.clock.now();
      if (cur && compareHlc(cur.hlc, hlc) >= 0) hlc = this.clock.update(cur.hlc);
      const version: ObjectVersion = {
        bucket: obj.bucket,
        key: obj.key,
        versionId: makeVersionId(hlc, this.region),
        hlc,
        region: this.region,
        deleteMarker: false,
        size: obj.size,
        etag: obj.etag,
        lastModified: hlc.wall,
        owner: obj.owner,
        headers: obj.headers,
        userMetadata: obj.userMetadata,
        checksums: obj.checksums,
        body: obj.body,
      };
      tx.set(kCurrent(obj.bucket, obj.key), encodeVersion(version));
      if (obj.body.kind === 'inline') tx.set(kData(obj.bucket, obj.key, version.versionId), obj.body.data);
      else if (obj.body.kind === 'blob') tx.set(kRef(obj.body.blobId, obj.bucket, obj.key, version.versionId), PRESENT);
      // 'parts': the completed upload's part records keep their own blob references
      // unversioned: the previous version is gone for good
      if (cur) await releaseVersion(tx, cur);
      return version;
    });
  }

  async getObject(bucket: string, key: string, versionId?: string): Promise<ObjectVersion> {
    return this.kv.read(async (tx) => {
      const curBytes = await tx.get(kCurrent(bucket, key));
      let found = curBytes && decodeVersion(bucket, key, curBytes);
      if (versionId !== undefined && found?.version.versionId !== versionId) {
        // 'null' names the version of an unversioned bucket: its current one
        const nullOk = versionId === 'null' && (await requireBucket(tx, bucket)).versioning === 'Unversioned';
        if (!nullOk) {
          const old = await tx.get(kVersion(bucket, key, versionId));
          found = old && decodeVersion(bucket, key, old);
        }
      }
      if (!found || found.version.deleteMarker) {
        await requireBucket(tx, bucket);
        throw new MetadataError(versionId !== undefined && versionId !== 'null' ? 'NoSuchVersion' : 'NoSuchKey');
      }
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
      await requireBucket(tx, bucket);
      return deleteInTx(tx, bucket, key, versionId);
    });
  }

  async deleteObjects(
    bucket: string,
    items: { key: string; versionId?: string }[],
  ): Promise<(DeleteResult | { key: string; versionId?: string; error: { code: string; message: string } })[]> {
    const out: DeleteResult[] = [];
    for (let i = 0; i < items.length; i += DELETE_BATCH) {
      const chunk = items.slice(i, i + DELETE_BATCH);
      const done = await this.kv.transact(async (tx) => {
        await requireBucket(tx, bucket);
        const results: DeleteResult[] = [];
        for (const it of chunk) results.push(await deleteInTx(tx, bucket, it.key, it.versionId));
        return results;
      });
      out.push(...done);
    }
    return out;
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

/** unversioned delete: the current version goes, with its bytes */
async function deleteInTx(tx: KvTransaction, bucket: string, key: string, versionId?: string): Promise<DeleteResult> {
  const curBytes = await tx.get(kCurrent(bucket, key));
  const cur = curBytes && decodeVersion(bucket, key, curBytes).version;
  const matches = versionId === undefined || versionId === 'null' || cur?.versionId === versionId;
  if (!cur || !matches) return versionId === undefined ? { key, deleteMarker: false } : { key, versionId, deleteMarker: false };
  tx.clear(kCurrent(bucket, key));
  await releaseVersion(tx, cur);
  return { key, versionId: cur.versionId, deleteMarker: false };
}

/** drops a version's body: inline bytes, or its blob reference (garbage once unreferenced) */
async function releaseVersion(tx: KvTransaction, v: ObjectVersion): Promise<void> {
  if (v.body?.kind === 'blob') {
    const { blobId, node } = v.body;
    tx.clear(kRef(blobId, v.bucket, v.key, v.versionId));
    const r = subspaceRange(['r', blobId]);
    if ((await tx.getRange(r.begin, r.end, { limit: 1 })).length === 0) tx.set(kGarbage(blobId), encode(node));
  } else if (v.body?.kind === 'parts') {
    await releaseParts(tx, v.body.uploadId);
  } else {
    tx.clear(kData(v.bucket, v.key, v.versionId));
  }
}
