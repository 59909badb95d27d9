/**
 * Changes: the replicated facts a metadata transaction produces, and the outbox entries that
 * hold them until every other region has applied them. Defined here, beside the records they
 * describe, because the object layer writes them in the same transaction as the write itself;
 * replication/ moves and applies them.
 */
import type { KvTransaction } from './kv.js';
import type { StoredAcl } from './acl.js';
import type { AccessKeyRecord, BucketRecord, ObjectVersion } from './types.js';

/** an object version as it travels: inline bytes go with it; other bytes stay where written */
export type ReplicatedVersion = Omit<ObjectVersion, 'body'> & {
  body?:
    | { kind: 'inline'; data: Uint8Array }
    /** bytes held in `region` (a blob or multipart parts there): pulled on first read */
    | { kind: 'remote'; region: string };
};

/**
 * Object and bucket-setting changes carry `bucketCreatedAt`, the creation time of the bucket
 * they were made in: a change for an older bucket of the same name (deleted since) is dropped,
 * one for a newer bucket than the receiver knows waits until that bucket has arrived.
 * Every `stamp` is a version-id string made by the writing region's clock (metadata/version-id.ts):
 * registers keep the value with the greatest stamp, and outbox ids derive from it.
 */
export type Change =
  /** a new version (PUT, copy, multipart completion, delete marker); `erase`: an unversioned DELETE */
  | { kind: 'version'; bucketCreatedAt: number; version: ReplicatedVersion; erase?: true }
  /** a version deleted for good */
  | { kind: 'purge'; bucketCreatedAt: number; bucket: string; key: string; versionId: string; stamp: string }
  /** a register of a version (its tags, its ACL): last writer wins by stamp */
  | VersionRegisterChange
  /**
   * a register of a bucket: 'versioning' (its record's state) or a configuration kind of
   * metadata/bucket-config.ts (CORS, lifecycle, tags, ACL, policy, …); value null: removed
   */
  | { kind: 'bucket-register'; bucketCreatedAt: number; bucket: string; name: string; value: unknown; stamp: string }
  /** an access key; record null: deleted */
  | { kind: 'access-key'; accessKeyId: string; record: AccessKeyRecord | null; stamp: string }
  /** a bucket the control region created (this incarnation: record.createdAt) */
  | { kind: 'bucket-created'; record: BucketRecord; stamp: string }
  /** the incarnation of `name` created at `createdAt` was deleted, with everything in it */
  | { kind: 'bucket-deleted'; name: string; createdAt: number; stamp: string };

interface VersionRegisterBase {
  kind: 'version-register';
  bucketCreatedAt: number;
  bucket: string;
  key: string;
  versionId: string;
  stamp: string;
}

/** tags: the whole tag set; acl: the version's ACL ('private' is what no record means) */
export type VersionRegisterChange =
  | (VersionRegisterBase & { name: 'tags'; value: Record<string, string> })
  | (VersionRegisterBase & { name: 'acl'; value: StoredAcl });

/** the name of the bucket register that holds the bucket record's versioning state */
export const VERSIONING_REGISTER = 'versioning';

/**
 * A version as it leaves the region that wrote it: inline bytes travel, other bytes are named
 * by the region that holds them (`region`, unless they already were another region's).
 */
export function toReplicated(v: ObjectVersion, region: string): ReplicatedVersion {
  const { body, ...rest } = v;
  if (!body) return rest;
  if (body.kind === 'inline') return { ...rest, body: { kind: 'inline', data: body.data } };
  return { ...rest, body: { kind: 'remote', region: body.kind === 'remote' ? body.region : region } };
}

/** a replicated version as this region stores it */
export function fromReplicated(rv: ReplicatedVersion): ObjectVersion {
  const { body, ...rest } = rv;
  const v: ObjectVersion = { ...rest };
  if (body?.kind === 'inline') v.body = { kind: 'inline', data: body.data };
  else if (body?.kind === 'remote') v.body = { kind: 'remote', region: body.region };
  return v;
}

/** the stamp that orders a change against others of the same target (a version's own id) */
export function stampOf(c: Change): string {
  return c.kind === 'version' ? c.version.versionId : c.stamp;
}

/** a change committed here, waiting for the regions in `pending` */
export interface OutboxEntry {
  /** unique in the region and oldest-first in byte order; job ids derive from it */
  id: string;
  change: Change;
  /** regions that have not yet confirmed applying it */
  pending: string[];
  /** ms since epoch when it was committed: lag and the oldest unapplied age count from it */
  at: number;
}

/**
 * Called inside the transaction of every replicated write: the replication module records
 * the change there (an outbox entry), so the write and its promise to deliver commit together.
 */
export type ChangeSink = (tx: KvTransaction, change: Change) => void;
