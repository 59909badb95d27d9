/**
 * Writing a key's versions inside the caller's transaction: a new version (PUT, copy,
 * multipart completion, delete marker) and the three kinds of DELETE. Each follows the merge
 * (metadata/merge.ts) exactly as a replicated change of it will elsewhere, and records that
 * change through the region's writer in the same transaction:
 * - a new version: newer than every version of its key and than the key's null mark;
 * - a version deleted for good (DELETE with a version id, lifecycle expiry of a version):
 *   removed and tombstoned, so a late copy of it never comes back;
 * - an unversioned DELETE: a null change that stores nothing. It moves the key's null mark to
 *   a fresh id and removes the live null version, so an older PUT arriving later from another
 *   region stays lost here as everywhere.
 */
import { refuseIfClosing } from './bucket-closing.js';
import { toReplicated } from './changes.js';
import { MetadataError } from './errors.js';
import { carryOut, factsFor } from './key-merge.js';
import type { KvReader, KvTransaction } from './kv.js';
import { planPurge, planVersion } from './merge.js';
import type { RegionWriter } from './region-writer.js';
import type { BucketRecord, DeleteResult, Hlc, NewObject, ObjectVersion, WriteConditions } from './types.js';
import { makeVersionId, parseVersionId } from './version-id.js';
import { s3VersionId } from './version-order.js';
import { currentRecord, findVersion, newestSeen, newestVersions, nullMarkOf, writeNewestVersion } from './version-store.js';

/**
 * A DELETE naming a version this region does not hold leaves a tombstone (the version may be on
 * its way from another region) only when the id is no later than this past our wall clock: a
 * made-up id far in the future must not drag the region's clock along.
 */
const ABSENT_PURGE_SLACK_MS = 60_000;

/** what a new version is made of, besides what the layer fills in */
export type VersionFields = Omit<NewObject, 'bucket' | 'key'> & { deleteMarker?: boolean };

export class VersionWrites {
  private readonly region: string;

  constructor(private readonly w: RegionWriter) {
    this.region = w.region;
  }

  /**
   * Writes the key's newest version in `tx`: conditions against the current one, an HLC
   * newer than every version of the key, and the null-version rule of the bucket's state.
   */
  async commit(tx: KvTransaction, b: BucketRecord, key: string, f: VersionFields, cond?: WriteConditions): Promise<ObjectVersion> {
    // a bucket the cluster is deleting takes no new version (metadata/bucket-closing.ts)
    await refuseIfClosing(tx, b.name, b.createdAt);
    const cur = (await currentRecord(tx, b.name, key))?.version;
    checkConditions(cur, cond);
    const hlc = await this.hlcForKey(tx, b.name, key);
    const isNull = b.versioning !== 'Enabled';
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
      ...(f.keptIn?.length ? { keptIn: f.keptIn } : {}),
    };
    await this.merge(tx, b, version, false);
    return version;
  }

  /**
   * A version must be newer than every one the key has, and a null one newer than the key's
   * null mark (the merge would drop it otherwise), even when our wall clock is behind theirs.
   */
  private async hlcForKey(tx: KvReader, bucket: string, key: string): Promise<Hlc> {
    // after all the key has seen: its versions, its null mark and the versions deleted for good,
    // so a process restarted behind its region's clock neither sorts before an unversioned
    // DELETE nor reissues a purged id (both found by the simulation)
    return this.w.hlcAfter(...(await newestSeen(tx, bucket, key)));
  }

  /** a version made here, carried out by the merge as any region will, and its change recorded */
  private async merge(tx: KvTransaction, b: BucketRecord, v: ObjectVersion, erase: boolean): Promise<void> {
    const plan = planVersion(await factsFor(tx, b.name, v.key, v.versionId), { id: v.versionId, isNull: !!v.isNull, erase });
    // a fresh id newer than the mark is always stored: anything else would lose an acknowledged write
    if (plan.store === erase) throw new Error(`merge refused a local version ${v.versionId} of ${b.name}/${v.key}`);
    await carryOut(tx, b.name, v.key, plan);
    if (plan.store) writeNewestVersion(tx, v);
    this.w.emit(tx, { kind: 'version', bucketCreatedAt: b.createdAt, version: toReplicated(v, this.region), ...(erase ? { erase: true as const } : {}) });
  }

  /**
   * S3 DELETE. Without a version id: unversioned buckets lose the object; versioned ones get
   * a delete marker (the null version when suspended). With one: that version goes for good.
   */
  async delete(tx: KvTransaction, b: BucketRecord, key: string, versionId?: string, ifCurrent?: string): Promise<DeleteResult> {
    if (ifCurrent !== undefined && (await currentRecord(tx, b.name, key))?.version.versionId !== ifCurrent) {
      return { key, deleteMarker: false, skipped: true };
    }
    if (versionId !== undefined) return this.purge(tx, b, key, versionId);
    if (b.versioning === 'Unversioned') return this.erase(tx, b, key);
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

  /** an unversioned DELETE: a null change that stores nothing and takes the key's null slot */
  private async erase(tx: KvTransaction, b: BucketRecord, key: string): Promise<DeleteResult> {
    const mark = await nullMarkOf(tx, b.name, key);
    const live = mark === undefined ? undefined : await findVersion(tx, b.name, key, mark);
    const hlc = await this.hlcForKey(tx, b.name, key);
    const eraser: ObjectVersion = {
      bucket: b.name,
      key,
      versionId: makeVersionId(hlc, this.region),
      hlc,
      region: this.region,
      deleteMarker: false,
      size: 0,
      etag: '',
      lastModified: hlc.wall,
      owner: b.owner,
      headers: {},
      userMetadata: {},
      checksums: {},
      isNull: true,
    };
    await this.merge(tx, b, eraser, true);
    return live ? { key, versionId: s3VersionId(live.version), deleteMarker: live.version.deleteMarker } : { key, deleteMarker: false };
  }

  /** a version deleted for good: removed and tombstoned, here and (by its change) everywhere */
  private async purge(tx: KvTransaction, b: BucketRecord, key: string, versionId: string): Promise<DeleteResult> {
    const found = await findVersion(tx, b.name, key, versionId);
    const id = found?.version.versionId ?? (versionId !== 'null' && this.mayBeOnItsWay(versionId) ? versionId : undefined);
    if (id === undefined) return { key, versionId, deleteMarker: false };
    await carryOut(tx, b.name, key, planPurge(await factsFor(tx, b.name, key, id), id));
    this.w.emit(tx, { kind: 'purge', bucketCreatedAt: b.createdAt, bucket: b.name, key, versionId: id, stamp: this.w.stampAfter(id) });
    return { key, versionId, deleteMarker: found?.version.deleteMarker ?? false };
  }

  /** a well-formed id no later than a clock skew ahead: another region may have written it */
  private mayBeOnItsWay(id: string): boolean {
    const p = parseVersionId(id);
    return p !== undefined && p.hlc.wall <= Date.now() + ABSENT_PURGE_SLACK_MS;
  }
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
