/**
 * What a region holds, two ways: `dump` is every object record as bytes (as
 * test/replication/apply.test.ts compares them: regions must agree byte for byte), `view`
 * is the same state as readable lines (versions of each key newest first, the current
 * index) to compare with the oracle (model.ts) and to print when they differ.
 */
import type { KvStore } from '../../../metadata/kv.js';
import { decodeVersion } from '../../../metadata/records.js';
import { pack, subspaceRange, unpack } from '../../../metadata/tuple.js';
import { kData } from '../../../metadata/version-store.js';

/**
 * every object record of a bucket, hex. A register row ('vr') of a version not stored is
 * inert (no version shows it) and may differ between regions: those are left out.
 */
export async function dump(kv: KvStore, bucket: string): Promise<string[]> {
  return kv.read(async (tx) => {
    const out: string[] = [];
    for (const space of ['c', 'v', 'nv', 't', 'd', 'vr']) {
      const r = subspaceRange([space, bucket]);
      for (const p of await tx.getRange(r.begin, r.end)) {
        if (space === 'vr') {
          const [, , key, vid] = unpack(p.key) as string[];
          if ((await tx.get(pack(['v', bucket, key!, vid!]))) === undefined) continue;
        }
        out.push(Buffer.from(p.key).toString('hex') + '=' + Buffer.from(p.value).toString('hex'));
      }
    }
    return out;
  });
}

/** one line per stored version and per current-index entry */
export interface VersionLine {
  key: string;
  id: string;
  deleteMarker: boolean;
  isNull: boolean;
  etag: string;
  tags: Record<string, string>;
  data?: string;
}

export function versionLine(v: VersionLine): string {
  const tags = Object.keys(v.tags).sort().map((k) => `${k}=${v.tags[k]}`).join(',');
  return `${v.key} ${v.id.slice(0, 20)}…${v.id.slice(20)} ${v.deleteMarker ? 'marker' : 'object'}${v.isNull ? ' null' : ''} etag=${v.etag} tags={${tags}}${v.data === undefined ? '' : ' data=' + v.data}`;
}

export async function view(kv: KvStore, bucket: string): Promise<string[]> {
  return kv.read(async (tx) => {
    const out: string[] = [];
    const vr = subspaceRange(['v', bucket]);
    for (const p of await tx.getRange(vr.begin, vr.end)) {
      const [, , key, id] = unpack(p.key) as string[];
      const { version: v, inline } = decodeVersion(bucket, key!, p.value);
      const data = inline ? await tx.get(kData(bucket, key!, id!)) : undefined;
      out.push(versionLine({ key: key!, id: id!, deleteMarker: v.deleteMarker, isNull: !!v.isNull, etag: v.etag, tags: v.tags ?? {}, ...(data ? { data: Buffer.from(data).toString() } : {}) }));
    }
    const cr = subspaceRange(['c', bucket]);
    for (const p of await tx.getRange(cr.begin, cr.end)) {
      const [, , key] = unpack(p.key) as string[];
      const v = decodeVersion(bucket, key!, p.value).version;
      out.push(`current ${key} ${v.versionId.slice(0, 20)}…${v.versionId.slice(20)} tags=${JSON.stringify(v.tags ?? {})}`);
    }
    return out;
  });
}
