/**
 * TEMPORARY, until the object layer records its own changes (option `changes` of
 * createObjectLayer, being added on another branch): the changes of a simulated write are
 * derived from the keys its transaction wrote and recorded IN THAT TRANSACTION, as the layer
 * will do. Where the layer does not yet write what the merge needs (an unversioned DELETE's
 * null mark, a purge's tombstone, a tag write's register stamp) this writes it, with the
 * layouts of metadata/version-store.ts and replication/apply.ts, so the region that took the
 * write holds what every other region will hold after applying it.
 */
import type { Change, ChangeSink, ReplicatedVersion } from '../../../metadata/changes.js';
import { compareHlc, type HybridClock } from '../../../metadata/hlc.js';
import type { KvTransaction } from '../../../metadata/kv.js';
import { decode, decodeBucket, decodeVersion, encode } from '../../../metadata/records.js';
import { pack, subspaceRange, unpack } from '../../../metadata/tuple.js';
import type { Hlc, ObjectVersion } from '../../../metadata/types.js';
import { makeVersionId, parseVersionId } from '../../../metadata/version-id.js';
import { kBucket, kNull, kTombstone, newestSeen } from '../../../metadata/version-store.js';
import type { AfterWrite, RecordedWrites } from './capture.js';

/** what the simulated client asked for: decides how the keys written are read */
export type Intent = 'put' | 'delete' | 'delete-version' | 'tags';

/** replication/apply.ts's register row of a version */
const kRegister = (bucket: string, key: string, vid: string) => pack(['vr', bucket, key, vid, 'tags']);

interface VersionKey {
  bucket: string;
  key: string;
  vid: string;
}

function versionKey(k: Uint8Array): VersionKey | undefined {
  // pack(['v', …]) starts 0x02 'v' 0x00; pack(['d', …]) 0x02 'd' 0x00
  if (k[0] !== 2 || k[2] !== 0 || (k[1] !== 0x76 && k[1] !== 0x64)) return undefined;
  const [, bucket, key, vid] = unpack(k) as string[];
  return { bucket: bucket!, key: key!, vid: vid! };
}

export class Shim {
  intent: Intent = 'put';

  constructor(
    private readonly region: string,
    private readonly clock: () => HybridClock,
  ) {}

  readonly after: AfterWrite = async (tx, writes, sink) => {
    for (const c of await this.derive(tx, writes)) sink(tx, c);
  };

  private async derive(tx: KvTransaction, w: RecordedWrites): Promise<Change[]> {
    const out: Change[] = [];
    const data = new Map<string, Uint8Array>();
    for (const s of w.sets) if (s.key[1] === 0x64 && versionKey(s.key)) data.set(versionKey(s.key)!.vid, s.value);
    const createdAt = async (bucket: string) => decodeBucket((await tx.get(kBucket(bucket)))!).createdAt;
    if (this.intent === 'put' || this.intent === 'delete' || this.intent === 'tags') {
      for (const s of w.sets) {
        const vk = s.key[1] === 0x76 ? versionKey(s.key) : undefined;
        if (!vk) continue;
        const v = decodeVersion(vk.bucket, vk.key, s.value).version;
        if (this.intent === 'tags') out.push(await this.tags(tx, v, await createdAt(vk.bucket)));
        else out.push({ kind: 'version', bucketCreatedAt: await createdAt(vk.bucket), version: replicated(v, data.get(vk.vid)) });
      }
    }
    if (this.intent === 'delete' || this.intent === 'delete-version') {
      for (const k of w.clears) {
        const vk = k[1] === 0x76 ? versionKey(k) : undefined;
        if (!vk) continue;
        const bucketCreatedAt = await createdAt(vk.bucket);
        if (this.intent === 'delete') out.push(await this.erase(tx, vk, bucketCreatedAt));
        else out.push(this.purge(tx, vk, bucketCreatedAt));
      }
    }
    return out;
  }

  /** an id newer than this region's clock and every one of `after` */
  private fresh(after: (string | Hlc)[]): { id: string; hlc: Hlc } {
    const clock = this.clock();
    let hlc = clock.now();
    for (const a of after) {
      const p = typeof a === 'string' ? parseVersionId(a)?.hlc : a;
      if (p && compareHlc(p, hlc) >= 0) hlc = clock.update(p);
    }
    return { id: makeVersionId(hlc, this.region), hlc };
  }

  /** an unversioned DELETE: a null change that takes the slot and stores nothing */
  private async erase(tx: KvTransaction, vk: VersionKey, bucketCreatedAt: number): Promise<Change> {
    const { id, hlc } = this.fresh([vk.vid, ...(await newestSeen(tx, vk.bucket, vk.key))]);
    tx.set(kNull(vk.bucket, vk.key), encode(id));
    const owner = decodeBucket((await tx.get(kBucket(vk.bucket)))!).owner;
    return {
      kind: 'version',
      bucketCreatedAt,
      erase: true,
      version: {
        bucket: vk.bucket, key: vk.key, versionId: id, hlc, region: this.region, deleteMarker: false, size: 0, etag: '',
        lastModified: hlc.wall, owner, headers: {}, userMetadata: {}, checksums: {}, isNull: true,
      },
    };
  }

  private purge(tx: KvTransaction, vk: VersionKey, bucketCreatedAt: number): Change {
    tx.set(kTombstone(vk.bucket, vk.key, vk.vid), encode(1));
    const r = subspaceRange(['vr', vk.bucket, vk.key, vk.vid]);
    tx.clearRange(r.begin, r.end);
    return { kind: 'purge', bucketCreatedAt, bucket: vk.bucket, key: vk.key, versionId: vk.vid, stamp: this.fresh([vk.vid]).id };
  }

  private async tags(tx: KvTransaction, v: ObjectVersion, bucketCreatedAt: number): Promise<Change> {
    const raw = await tx.get(kRegister(v.bucket, v.key, v.versionId));
    const cur = raw && decode<{ s: string }>(raw).s;
    const stamp = this.fresh([v.versionId, ...(cur ? [cur] : [])]).id;
    const value = v.tags ?? {};
    tx.set(kRegister(v.bucket, v.key, v.versionId), encode({ s: stamp, v: value }));
    return { kind: 'version-register', bucketCreatedAt, bucket: v.bucket, key: v.key, versionId: v.versionId, name: 'tags', value, stamp };
  }
}

function replicated(v: ObjectVersion, inline: Uint8Array | undefined): ReplicatedVersion {
  const { body: _body, ...rest } = v;
  return inline !== undefined && !v.deleteMarker ? { ...rest, body: { kind: 'inline', data: inline } } : rest;
}
