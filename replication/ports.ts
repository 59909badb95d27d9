/**
 * What the replication core needs from the world, passed in so the same code runs against
 * LMDB/FDB, BullMQ and HTTP in production and against simulated ones in the simulation.
 */
import type { Change, OutboxEntry } from '../metadata/changes.js';

/** The outbox as the relay and workers see it (metadata/outbox.ts over the KV store). */
export interface OutboxPort {
  /** up to `limit` entries still pending for `dest`, oldest first, with id > `after` */
  pending(dest: string, after: string | undefined, limit: number): Promise<OutboxEntry[]>;
  /** the same, ids only (what the relay walks: it reads an entry only to enqueue it) */
  pendingIds(dest: string, after: string | undefined, limit: number): Promise<string[]>;
  /** the entries among `ids` still pending for `dest` */
  get(dest: string, ids: string[]): Promise<OutboxEntry[]>;
  /** `dest` applied these entries; an entry no region waits for any more is removed */
  ack(dest: string, ids: string[]): Promise<void>;
}

/** A job queue per destination (BullMQ in production). Adding a job id that exists is a no-op. */
export interface QueuePort {
  add(dest: string, entries: OutboxEntry[]): Promise<void>;
}

/** The receiving region's internal endpoint, as a worker calls it. Throws when not applied. */
export interface PeerPort {
  send(dest: string, changes: Change[]): Promise<void>;
}

/** the queue job id of an entry bound for `dest`: the same entry is never two jobs */
export function jobId(dest: string, entryId: string): string {
  return `${dest}.${entryId}`;
}
