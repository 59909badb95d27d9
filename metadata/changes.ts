/**
 * Changes: the replicated facts a metadata transaction produces, and the outbox entries that
 * hold them until every other region has applied them. Defined here, beside the records they
 * describe, because the object layer writes them in the same transaction as the write itself;
 * replication/ moves and applies them.
 */
import type { KvTransaction } from './kv.js';
import type { ObjectVersion } from './types.js';

/** an object version as it travels: inline bytes go with it; other bytes stay where written */
export type ReplicatedVersion = Omit<ObjectVersion, 'body'> & {
  body?:
    | { kind: 'inline'; data: Uint8Array }
    /** bytes held in `region` (a blob or multipart parts there): pulled on first read */
    | { kind: 'remote'; region: string };
};

/**
 * Object changes carry `bucketCreatedAt`, the creation time of the bucket they were made in:
 * a change for an older bucket of the same name (deleted since) is dropped, one for a newer
 * bucket than the receiver knows waits until that bucket has arrived.
 */
export type Change =
  /** a new version (PUT, copy, multipart completion, delete marker); `erase`: an unversioned DELETE */
  | { kind: 'version'; bucketCreatedAt: number; version: ReplicatedVersion; erase?: true }
  /** a version deleted for good */
  | { kind: 'purge'; bucketCreatedAt: number; bucket: string; key: string; versionId: string; stamp: string }
  /** a register of a version (its tags): last writer wins by stamp */
  | { kind: 'version-register'; bucketCreatedAt: number; bucket: string; key: string; versionId: string; name: 'tags'; value: Record<string, string>; stamp: string }
  /** a register of a bucket (versioning, CORS, lifecycle, tags, ACL, …); value null: removed */
  | { kind: 'bucket-register'; bucket: string; name: string; value: unknown; stamp: string }
  /** an access key; record null: deleted */
  | { kind: 'access-key'; accessKeyId: string; record: unknown; stamp: string };

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
