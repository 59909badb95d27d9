/**
 * The merge: what a change arriving from any region (or made here) does to one key, decided
 * from a few facts about the key and nothing else. No I/O: the metadata adapter reads the
 * facts in its transaction and carries out the plan; the simulation does the same over maps.
 *
 * A key's replicated state is three sets that only grow or move one way:
 * - the versions stored (every version of a versioned bucket, delete markers included);
 * - tombstones: ids deleted for good, so a late copy of one never comes back;
 * - the null mark: the greatest null-version id the key has ever seen. S3's null version is
 *   one slot per key (unversioned and suspended writes replace it), so only the null version
 *   at the mark may live; an older one arriving late is dropped. An unversioned DELETE is a
 *   null change that stores nothing ("erase"): it moves the mark and so removes the object
 *   everywhere, whatever order it meets the PUTs it follows or precedes.
 *
 * Whatever order, duplication or replay the same set of changes arrives in, the result is
 *   mark = the greatest null id among them,
 *   stored = { non-null versions not tombstoned } ∪ { the version at the mark, unless erased or tombstoned },
 * so every region converges (test/replication/merge.test.ts checks it by property).
 * Version ids sort newest-first as strings (metadata/version-id.ts): a smaller id is newer.
 */

/** what a plan needs to know about the key, read in the transaction that carries it out */
export interface KeyFacts {
  /** is this version stored for the key? */
  stored(id: string): boolean;
  /** was this version deleted for good? */
  tombstoned(id: string): boolean;
  /** the greatest null-version id the key has seen, stored or not */
  nullMark: string | undefined;
}

/** a new version of a key, as far as the merge cares */
export interface VersionChange {
  id: string;
  /** S3's null version (written while the bucket was unversioned or suspended) */
  isNull: boolean;
  /** an unversioned DELETE: takes the null slot without storing anything */
  erase?: boolean;
}

/** what to do; an empty plan (store false, nothing else) means the change is already known or lost */
export interface Plan {
  store: boolean;
  /** a stored version to remove (a null version replaced, a version deleted for good) */
  remove?: string;
  /** the key's new null mark */
  nullMark?: string;
  /** a tombstone to record */
  tombstone?: string;
}

/** true when version id a is newer than b (ids sort newest-first) */
export function isNewer(a: string, b: string): boolean {
  return a < b;
}

export function planVersion(f: KeyFacts, c: VersionChange): Plan {
  const known = f.tombstoned(c.id) || f.stored(c.id);
  if (!c.isNull) return { store: !known };
  if (f.nullMark !== undefined && !isNewer(c.id, f.nullMark)) return { store: false };
  // the newest null version seen takes the slot even when it was deleted for good before it
  // arrived: the mark must not depend on which of the two came first
  const plan: Plan = { store: !c.erase && !known, nullMark: c.id };
  if (f.nullMark !== undefined && f.stored(f.nullMark)) plan.remove = f.nullMark;
  return plan;
}

/** a version deleted for good (DELETE with a version id, lifecycle expiry of a version) */
export function planPurge(f: KeyFacts, id: string): Plan {
  const plan: Plan = { store: false, tombstone: id };
  if (f.stored(id)) plan.remove = id;
  return plan;
}

/**
 * Last writer wins for a register (a version's tags or ACL, a bucket setting, an access
 * key): the value with the greater stamp is kept. Stamps are version-id strings, so the
 * same order holds everywhere and equal stamps are the same write.
 */
export function takesRegister(current: string | undefined, incoming: string): boolean {
  return current === undefined || isNewer(incoming, current);
}
