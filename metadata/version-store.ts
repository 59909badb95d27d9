/**
 * The versions of a key inside one transaction: the key layout and the steps every write,
 * delete and copy is made of. Layout (tuple-encoded, metadata/tuple.ts):
 *
 *   ('v', bucket, key, versionId)           → EVERY version of the key, delete markers included,
 *                                             on every bucket (an unversioned bucket has one);
 *                                             ids sort newest first, so the first is current
 *   ('c', bucket, key)                      → a copy of the current version when it is not a
 *                                             delete marker: what GET and ListObjects read
 *   ('nv', bucket, key)                     → the real id of the key's null version, if any
 *   ('d', bucket, key, versionId)           → inline body bytes of that version
 *   ('r', blobId, bucket, key, versionId)   → that version refers to this blob (copies share
 *                                             blobs: one row per referring version)
 *   ('g', blobId)                           → blob nobody refers to any more: its node
 *   ('oa', bucket, key, versionId)          → that version's canned ACL (written by
 *                                             bucket-config.ts; removed here with the version)
 *   ('t', bucket, key, versionId)           → a version deleted for good (replication's
 *                                             tombstone: a late copy of it is not stored again)
 *   ('vr', bucket, key, versionId, name)    → a register of that version (tags, ACL) as last
 *                                             written, with its stamp (metadata/registers.ts)
 *
 * The null version (S3's 'null': written unversioned or suspended) is stored under its real
 * id so it sorts by its time among the others; ('nv') finds it and s3VersionId() names it.
 * ('nv') keeps the greatest null id the key has seen even after that version is gone: it is
 * the merge's null mark (metadata/merge.ts), and a stale id there finds no version.
 */
import type { KvReader, KvTransaction } from './kv.js';
import { releaseParts } from './multipart-release.js';
import { decode, decodeVersion, encode, encodeVersion, type DecodedVersion } from './records.js';
import { pack, subspaceRange, unpackAfter } from './tuple.js';
import type { Hlc, ObjectVersion } from './types.js';
import { readHorizon } from './tombstone-horizon.js';
import { parseVersionId } from './version-id.js';
import { currentOf, indexEntryFor } from './version-order.js';

const PRESENT = Buffer.from([1]);

export const kBucket = (bucket: string) => pack(['b', bucket]);
export const kCurrent = (bucket: string, key: string) => pack(['c', bucket, key]);
export const kVersion = (bucket: string, key: string, vid: string) => pack(['v', bucket, key, vid]);
export const kNull = (bucket: string, key: string) => pack(['nv', bucket, key]);
export const kData = (bucket: string, key: string, vid: string) => pack(['d', bucket, key, vid]);
export const kRef = (blobId: string, bucket: string, key: string, vid: string) => pack(['r', blobId, bucket, key, vid]);
export const kGarbage = (blobId: string) => pack(['g', blobId]);
/** a version's canned ACL (bucket-config.ts writes it; removeVersion clears it) */
export const kObjectAcl = (bucket: string, key: string, vid: string) => pack(['oa', bucket, key, vid]);
export const kTombstone = (bucket: string, key: string, vid: string) => pack(['t', bucket, key, vid]);
export const kVersionRegister = (bucket: string, key: string, vid: string, name: string) => pack(['vr', bucket, key, vid, name]);

/** the key's null mark: the greatest null-version id it has seen (stored or not) */
export async function nullMarkOf(tx: KvReader, bucket: string, key: string): Promise<string | undefined> {
  const raw = await tx.get(kNull(bucket, key));
  return raw && decode<string>(raw);
}

/** clears every register row of one version */
export function clearVersionRegisters(tx: KvTransaction, bucket: string, key: string, vid: string): void {
  const r = subspaceRange(['vr', bucket, key, vid]);
  tx.clearRange(r.begin, r.end);
}

/** the newest `limit` versions of a key, newest first (records only, no inline bytes) */
export async function newestVersions(tx: KvReader, bucket: string, key: string, limit: number): Promise<ObjectVersion[]> {
  const r = subspaceRange(['v', bucket, key]);
  const space = pack(['v', bucket, key]);
  const pairs = await tx.getRange(r.begin, r.end, { limit });
  return pairs.map((p) => {
    const v = decodeVersion(bucket, key, p.value).version;
    // the key is the truth for the id (the record repeats it)
    v.versionId = unpackAfter(space, p.key)[0] as string;
    return v;
  });
}

/**
 * The times of the newest ids the key has seen: its newest stored version, its null mark,
 * its newest version deleted for good, and the tombstone horizon. A new version must sort after all of them, even when
 * this process's clock is behind them (it restarted behind a region it had followed).
 */
export async function newestSeen(tx: KvReader, bucket: string, key: string): Promise<Hlc[]> {
  const out: Hlc[] = [];
  const [newest] = await newestVersions(tx, bucket, key, 1);
  if (newest) out.push(newest.hlc);
  const mark = await tx.get(kNull(bucket, key));
  const markHlc = mark && parseVersionId(decode<string>(mark))?.hlc;
  if (markHlc) out.push(markHlc);
  const t = subspaceRange(['t', bucket, key]);
  const [tomb] = await tx.getRange(t.begin, t.end, { limit: 1 });
  const tombHlc = tomb && parseVersionId(unpackAfter(pack(['t', bucket, key]), tomb.key)[0] as string)?.hlc;
  if (tombHlc) out.push(tombHlc);
  // the tombstone horizon stands for every tombstone collected under it: a process whose clock
  // is far behind must not make an id the merge would take for a collected one
  const horizon = await readHorizon(tx);
  if (horizon !== undefined) out.push({ wall: horizon, logical: 0 });
  return out;
}

/** a version by S3 id ('null' → the null version) or by real id */
export async function findVersion(tx: KvReader, bucket: string, key: string, id: string): Promise<DecodedVersion | undefined> {
  let real: string | undefined = id;
  if (id === 'null') {
    const p = await tx.get(kNull(bucket, key));
    real = p && decode<string>(p);
  }
  if (real === undefined) return undefined;
  const bytes = await tx.get(kVersion(bucket, key, real));
  return bytes && decodeVersion(bucket, key, bytes);
}

export async function currentRecord(tx: KvReader, bucket: string, key: string): Promise<DecodedVersion | undefined> {
  const bytes = await tx.get(kCurrent(bucket, key));
  return bytes && decodeVersion(bucket, key, bytes);
}

/**
 * Stores a version that is newer than every other of its key: its record, its body, the
 * null pointer, and the current index (cleared when it is a delete marker).
 */
export function writeNewestVersion(tx: KvTransaction, v: ObjectVersion, inline?: Uint8Array): void {
  const rec = encodeVersion(v);
  tx.set(kVersion(v.bucket, v.key, v.versionId), rec);
  if (v.deleteMarker) tx.clear(kCurrent(v.bucket, v.key));
  else tx.set(kCurrent(v.bucket, v.key), rec);
  if (v.isNull) tx.set(kNull(v.bucket, v.key), encode(v.versionId));
  if (v.body?.kind === 'inline') tx.set(kData(v.bucket, v.key, v.versionId), inline ?? v.body.data);
  else if (v.body?.kind === 'blob') {
    tx.set(kRef(v.body.blobId, v.bucket, v.key, v.versionId), PRESENT);
    // a referenced blob is never garbage (a copy may refer again to a blob just released)
    tx.clear(kGarbage(v.body.blobId));
  }
  // 'parts': the completed upload's part records keep their own blob references
}

/**
 * Stores a version that arrived from another region and may be older than some the key
 * already has: the current index moves to it only when it is the newest.
 */
export async function storeVersion(tx: KvTransaction, v: ObjectVersion, inline?: Uint8Array): Promise<void> {
  const [newest] = await newestVersions(tx, v.bucket, v.key, 1);
  if (newest === undefined || v.versionId < newest.versionId) {
    writeNewestVersion(tx, v, inline);
    return;
  }
  tx.set(kVersion(v.bucket, v.key, v.versionId), encodeVersion(v));
  if (v.body?.kind === 'inline') tx.set(kData(v.bucket, v.key, v.versionId), inline ?? v.body.data);
  else if (v.body?.kind === 'blob') {
    tx.set(kRef(v.body.blobId, v.bucket, v.key, v.versionId), PRESENT);
    tx.clear(kGarbage(v.body.blobId));
  }
}

/** rewrites a version's record in place (tags), and the index when it is the current one */
export async function rewriteVersion(tx: KvTransaction, v: ObjectVersion): Promise<void> {
  // a version read back has no body for inline bytes (they live under 'd'): keep the record
  // saying they are inline, or the object would lose its bytes
  const old = v.body === undefined && !v.deleteMarker ? await tx.get(kVersion(v.bucket, v.key, v.versionId)) : undefined;
  const inline = old !== undefined && decodeVersion(v.bucket, v.key, old).inline;
  const rec = encodeVersion(inline ? { ...v, body: { kind: 'inline', data: new Uint8Array(0) } } : v);
  tx.set(kVersion(v.bucket, v.key, v.versionId), rec);
  const cur = await tx.get(kCurrent(v.bucket, v.key));
  if (cur && decodeVersion(v.bucket, v.key, cur).version.versionId === v.versionId) tx.set(kCurrent(v.bucket, v.key), rec);
}

/**
 * Removes one version for good, with its bytes (inline, blob reference, parts), its ACL and
 * registers; if it was the current one, the next newest becomes current.
 */
export async function removeVersion(tx: KvTransaction, v: ObjectVersion): Promise<void> {
  const before = await newestVersions(tx, v.bucket, v.key, 2);
  await forgetVersion(tx, v);
  if (before[0]?.versionId !== v.versionId) return;
  const rest = before.filter((x) => x.versionId !== v.versionId);
  const next = indexEntryFor(currentOf(rest));
  if (next) tx.set(kCurrent(v.bucket, v.key), (await tx.get(kVersion(v.bucket, v.key, next.versionId)))!);
  else tx.clear(kCurrent(v.bucket, v.key));
}

/** drops a version's record, bytes, ACL and registers, leaving the current index alone (a bucket drop clears it) */
export async function forgetVersion(tx: KvTransaction, v: ObjectVersion): Promise<void> {
  tx.clear(kVersion(v.bucket, v.key, v.versionId));
  tx.clear(kObjectAcl(v.bucket, v.key, v.versionId));
  clearVersionRegisters(tx, v.bucket, v.key, v.versionId);
  await releaseBody(tx, v);
}

/** drops a version's body: inline bytes, or its blob reference (garbage once unreferenced) */
async function releaseBody(tx: KvTransaction, v: ObjectVersion): Promise<void> {
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
