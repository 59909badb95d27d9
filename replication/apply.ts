/**
 * Applying changes from another region to this region's metadata: the merge's plan
 * (merge.ts) carried out in one KV transaction per batch. Idempotent and order-free: a
 * duplicate, a replay or a change older than what the key already has changes nothing
 * it should not. The region's clock moves past every remote time it sees, so its next
 * write sorts after what it has just learnt.
 */
import type { Change, ReplicatedVersion } from '../metadata/changes.js';
import type { KvReader, KvStore, KvTransaction } from '../metadata/kv.js';
import { decode, decodeBucket, encode } from '../metadata/records.js';
import { pack, subspaceRange } from '../metadata/tuple.js';
import type { Hlc, ObjectVersion } from '../metadata/types.js';
import { parseVersionId } from '../metadata/version-id.js';
import { findVersion, kBucket, kNull, kTombstone, kVersion, removeVersion, rewriteVersion, storeVersion } from '../metadata/version-store.js';
import { planPurge, planVersion, takesRegister, type KeyFacts, type Plan } from './merge.js';

/** a version's register (its tags) as last written: kept so a late, older write loses */
const kRegister = (bucket: string, key: string, vid: string, name: string) => pack(['vr', bucket, key, vid, name]);

interface StoredRegister {
  s: string;
  v: unknown;
}

/** why a change cannot be applied yet: the sender retries it later */
export class NotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReadyError';
  }
}

export interface ApplyOptions {
  /** the region's clock: told of every remote time */
  observe?: (hlc: Hlc) => void;
}

/** applies a batch in one transaction (the caller keeps batches small); NotReadyError if one must wait */
export async function applyChanges(kv: KvStore, changes: Change[], opts: ApplyOptions = {}): Promise<void> {
  await kv.transact(async (tx) => {
    for (const c of changes) await applyOne(tx, c);
  });
  if (opts.observe) for (const c of changes) observeStamp(c, opts.observe);
}

function observeStamp(c: Change, observe: (hlc: Hlc) => void): void {
  const stamp = c.kind === 'version' ? c.version.versionId : c.stamp;
  const parsed = parseVersionId(stamp);
  if (parsed) observe(parsed.hlc);
}

async function applyOne(tx: KvTransaction, c: Change): Promise<void> {
  switch (c.kind) {
    case 'version':
      if (await bucketMatches(tx, c.version.bucket, c.bucketCreatedAt)) await applyVersion(tx, c.version, !!c.erase);
      return;
    case 'purge':
      if (await bucketMatches(tx, c.bucket, c.bucketCreatedAt)) await applyPurge(tx, c.bucket, c.key, c.versionId);
      return;
    case 'version-register':
      if (await bucketMatches(tx, c.bucket, c.bucketCreatedAt)) await applyTags(tx, c);
      return;
    default:
      throw new NotReadyError(`change kind ${(c as Change).kind} is not applied by this version of Erne`);
  }
}

/** false: the change belongs to a bucket deleted since (drop it); throws while the bucket has not arrived */
async function bucketMatches(tx: KvReader, bucket: string, createdAt: number): Promise<boolean> {
  const raw = await tx.get(kBucket(bucket));
  const local = raw && decodeBucket(raw).createdAt;
  if (local === createdAt) return true;
  if (local === undefined || local < createdAt) throw new NotReadyError(`bucket ${bucket} (created ${createdAt}) has not reached this region yet`);
  return false;
}

/** the merge's facts about one key, read for the ids a plan can name */
async function factsFor(tx: KvReader, bucket: string, key: string, id: string): Promise<KeyFacts> {
  const markRaw = await tx.get(kNull(bucket, key));
  const nullMark = markRaw && decode<string>(markRaw);
  const ids = nullMark === undefined || nullMark === id ? [id] : [id, nullMark];
  const stored = new Set<string>();
  for (const x of ids) if ((await tx.get(kVersion(bucket, key, x))) !== undefined) stored.add(x);
  const tomb = (await tx.get(kTombstone(bucket, key, id))) !== undefined;
  return { stored: (x) => stored.has(x), tombstoned: (x) => x === id && tomb, nullMark };
}

async function applyVersion(tx: KvTransaction, rv: ReplicatedVersion, erase: boolean): Promise<void> {
  const facts = await factsFor(tx, rv.bucket, rv.key, rv.versionId);
  const plan = planVersion(facts, { id: rv.versionId, isNull: !!rv.isNull, erase });
  await carryOut(tx, rv.bucket, rv.key, plan);
  if (!plan.store) return;
  const v = toLocal(rv);
  // tags written to this version before it arrived here win if they are newer than it
  const reg = await readRegister(tx, rv.bucket, rv.key, rv.versionId, 'tags');
  if (reg && takesRegister(rv.versionId, reg.s)) setTags(v, reg.v as Record<string, string>);
  else if (reg) tx.clear(kRegister(rv.bucket, rv.key, rv.versionId, 'tags'));
  await storeVersion(tx, v);
}

async function applyPurge(tx: KvTransaction, bucket: string, key: string, id: string): Promise<void> {
  await carryOut(tx, bucket, key, planPurge(await factsFor(tx, bucket, key, id), id));
  const r = subspaceRange(['vr', bucket, key, id]);
  tx.clearRange(r.begin, r.end);
}

async function carryOut(tx: KvTransaction, bucket: string, key: string, plan: Plan): Promise<void> {
  if (plan.remove !== undefined) {
    const found = await findVersion(tx, bucket, key, plan.remove);
    if (found) await removeVersion(tx, found.version);
  }
  if (plan.nullMark !== undefined) tx.set(kNull(bucket, key), encode(plan.nullMark));
  if (plan.tombstone !== undefined) tx.set(kTombstone(bucket, key, plan.tombstone), encode(1));
}

async function applyTags(tx: KvTransaction, c: Extract<Change, { kind: 'version-register' }>): Promise<void> {
  if ((await tx.get(kTombstone(c.bucket, c.key, c.versionId))) !== undefined) return;
  const cur = await readRegister(tx, c.bucket, c.key, c.versionId, c.name);
  const found = await findVersion(tx, c.bucket, c.key, c.versionId);
  // the version's own id is the stamp of the tags it was written with
  const curStamp = cur?.s ?? found?.version.versionId;
  if (!takesRegister(curStamp, c.stamp)) return;
  tx.set(kRegister(c.bucket, c.key, c.versionId, c.name), encode({ s: c.stamp, v: c.value } satisfies StoredRegister));
  if (found) {
    setTags(found.version, c.value);
    await rewriteVersion(tx, found.version);
  }
}

async function readRegister(tx: KvReader, bucket: string, key: string, vid: string, name: string): Promise<StoredRegister | undefined> {
  const raw = await tx.get(kRegister(bucket, key, vid, name));
  return raw && decode<StoredRegister>(raw);
}

function setTags(v: ObjectVersion, tags: Record<string, string>): void {
  if (Object.keys(tags).length > 0) v.tags = tags;
  else delete v.tags;
}

function toLocal(rv: ReplicatedVersion): ObjectVersion {
  const { body, ...rest } = rv;
  const v: ObjectVersion = { ...rest };
  if (body?.kind === 'inline') v.body = { kind: 'inline', data: body.data };
  else if (body?.kind === 'remote') v.body = { kind: 'remote', region: body.region };
  return v;
}
