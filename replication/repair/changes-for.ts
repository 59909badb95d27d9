/**
 * What a region sends to repair a peer's index: for entries of its indexes the peer lacks, the
 * changes that would have carried them — a version (with its inline bytes and its registers),
 * a purge, an unversioned DELETE (erase), a bucket setting, an access key, a bucket's creation
 * (its record) or deletion (its gone marker) — read a bounded batch per transaction.
 * The receiver applies them through the ordinary apply path (apply.ts), so a change it
 * already has, or that lost to a newer one meanwhile, changes nothing.
 */
import type { Change, ReplicatedVersion } from '../../metadata/changes.js';
import { toReplicated, VERSIONING_REGISTER } from '../../metadata/changes.js';
import { kAccessKey } from '../../metadata/access-keys.js';
import { kConfig } from '../../metadata/bucket-registers.js';
import { decodeGone } from '../../metadata/bucket-drop.js';
import type { KvReader, KvStore } from '../../metadata/kv.js';
import { decode, decodeAccessKey, decodeBucket, decodeVersion } from '../../metadata/records.js';
import type { StoredRegister } from '../../metadata/registers.js';
import { pack, subspaceRange, unpackAfter } from '../../metadata/tuple.js';
import { makeVersionId, parseVersionId } from '../../metadata/version-id.js';
import { kBucket, kData, kVersion } from '../../metadata/version-store.js';
import type { IndexSpace } from './version-index.js';

/** entries turned into changes per read transaction */
export const CHANGES_BATCH = 100;

export async function changesFor(kv: KvStore, self: string, bucket: string, space: IndexSpace, hexKeys: string[]): Promise<Change[]> {
  const out: Change[] = [];
  for (let i = 0; i < hexKeys.length; i += CHANGES_BATCH) {
    const batch = hexKeys.slice(i, i + CHANGES_BATCH);
    out.push(
      ...(await kv.read(async (tx) => {
        const changes: Change[] = [];
        if (space === 'ks') {
          const prefix = pack(['ks']);
          for (const hex of batch) {
            const k = Buffer.from(hex, 'hex');
            if (!k.subarray(0, prefix.length).equals(prefix)) continue;
            const id = unpackAfter(prefix, k)[0] as string;
            const stamp = await tx.get(k);
            if (!stamp) continue;
            const rec = await tx.get(kAccessKey(id));
            changes.push({ kind: 'access-key', accessKeyId: id, record: rec ? decodeAccessKey(rec) : null, stamp: decode<string>(stamp) });
          }
          return changes;
        }
        if (space === 'b' || space === 'bx') {
          const prefix = pack([space]);
          for (const hex of batch) {
            const k = Buffer.from(hex, 'hex');
            if (!k.subarray(0, prefix.length).equals(prefix)) continue;
            const name = unpackAfter(prefix, k)[0] as string;
            const row = await tx.get(k);
            if (!row) continue;
            if (space === 'b') {
              const record = decodeBucket(row);
              changes.push({ kind: 'bucket-created', record, stamp: makeVersionId({ wall: record.createdAt, logical: 0 }, self, null) });
            } else {
              // a marker stored without its deletion time says only that it followed the creation
              const m = decodeGone(row);
              const stamp = makeVersionId(m.deletedAt ?? { wall: m.createdAt + 1, logical: 0 }, self, null);
              changes.push({ kind: 'bucket-deleted', name, createdAt: m.createdAt, stamp });
            }
          }
          return changes;
        }
        const raw = await tx.get(kBucket(bucket));
        if (!raw) return [];
        const record = decodeBucket(raw);
        const createdAt = record.createdAt;
        const prefix = pack([space, bucket]);
        for (const hex of batch) {
          const k = Buffer.from(hex, 'hex');
          // a key outside the scope is not one of this index's entries
          if (!k.subarray(0, prefix.length).equals(prefix)) continue;
          const t = unpackAfter(prefix, k) as string[];
          const key = t[0]!;
          if (space === 'vr') {
            const row = await tx.get(k);
            if (!row) continue;
            const reg = decode<StoredRegister>(row);
            const [, versionId, name] = t as [string, string, string];
            if (name === 'tags' || name === 'acl') changes.push({ kind: 'version-register', bucketCreatedAt: createdAt, bucket, key, versionId, name, value: reg.v as never, stamp: reg.s });
          } else if (space === 'br') {
            const stamp = await tx.get(k);
            if (!stamp) continue;
            const cfg = key === VERSIONING_REGISTER ? undefined : await tx.get(kConfig(bucket, key));
            const doc = cfg && decode<{ c: number; v: unknown }>(cfg);
            const value = key === VERSIONING_REGISTER ? record.versioning : doc && doc.c === createdAt ? doc.v : null;
            changes.push({ kind: 'bucket-register', bucketCreatedAt: createdAt, bucket, name: key, value, stamp: decode<string>(stamp) });
          } else if (space === 't') changes.push({ kind: 'purge', bucketCreatedAt: createdAt, bucket, key, versionId: t[1]!, stamp: t[1]! });
          else if (space === 'v') changes.push(...(await versionChanges(tx, self, createdAt, bucket, key, t[1]!)));
          else {
            const mark = await tx.get(k);
            if (!mark) continue;
            const id = decode<string>(mark);
            const stored = await versionChanges(tx, self, createdAt, bucket, key, id);
            changes.push(...(stored.length > 0 ? stored : eraseOf(createdAt, bucket, key, id)));
          }
        }
        return changes;
      })),
    );
  }
  return out;
}

/** a stored version as its change, with its inline bytes, and its registers (tags, ACL) with their stamps */
async function versionChanges(tx: KvReader, self: string, createdAt: number, bucket: string, key: string, id: string): Promise<Change[]> {
  const raw = await tx.get(kVersion(bucket, key, id));
  if (!raw) return [];
  const { version, inline } = decodeVersion(bucket, key, raw);
  version.versionId = id;
  if (inline) version.body = { kind: 'inline', data: (await tx.get(kData(bucket, key, id))) ?? new Uint8Array(0) };
  const out: Change[] = [{ kind: 'version', bucketCreatedAt: createdAt, version: toReplicated(version, self) }];
  const r = subspaceRange(['vr', bucket, key, id]);
  for (const row of await tx.getRange(r.begin, r.end)) {
    const name = unpackAfter(pack(['vr', bucket, key, id]), row.key)[0] as string;
    const reg = decode<StoredRegister>(row.value);
    if (name === 'tags') out.push({ kind: 'version-register', bucketCreatedAt: createdAt, bucket, key, versionId: id, name, value: reg.v as Record<string, string>, stamp: reg.s });
    else if (name === 'acl') out.push({ kind: 'version-register', bucketCreatedAt: createdAt, bucket, key, versionId: id, name, value: reg.v as never, stamp: reg.s });
  }
  return out;
}

/** the unversioned DELETE a null mark naming no stored version stands for */
function eraseOf(createdAt: number, bucket: string, key: string, id: string): Change[] {
  const p = parseVersionId(id);
  if (!p) return [];
  const version: ReplicatedVersion = {
    bucket,
    key,
    versionId: id,
    hlc: p.hlc,
    region: p.region,
    deleteMarker: false,
    size: 0,
    etag: '',
    lastModified: p.hlc.wall,
    owner: '',
    headers: {},
    userMetadata: {},
    checksums: {},
    isNull: true,
  };
  return [{ kind: 'version', bucketCreatedAt: createdAt, version, erase: true }];
}
