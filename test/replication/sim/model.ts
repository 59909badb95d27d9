/**
 * The oracle: the state every region must reach, computed from the changes the writes
 * committed, by the merge's rule as DESIGN.md and replication/merge.ts state it — written
 * again here over plain maps, without the merge's code, so a fault in merge.ts or apply.ts
 * shows as a difference. Per key:
 *   mark   = the greatest null-version id among the changes (erases included);
 *   stored = { non-null versions not purged } ∪ { the version at the mark, unless it is an
 *            erase or was purged };
 *   tags   = for each stored version, the value with the greatest stamp among its own (its
 *            id) and every tag change for it;
 *   current = the newest stored version, unless it is a delete marker.
 * Version ids sort newest-first as strings: the greatest id is the smallest string.
 */
import type { Change, ReplicatedVersion } from '../../../metadata/changes.js';
import { versionLine } from './view.js';

interface KeyState {
  versions: Map<string, ReplicatedVersion>;
  erased: Set<string>;
  purged: Set<string>;
  /** version id → [stamp, tags] of the newest tag change */
  tags: Map<string, [string, Record<string, string>]>;
}

const newer = (a: string, b: string) => a < b;

export function expectedView(changes: Change[], bucket: string): string[] {
  const keys = new Map<string, KeyState>();
  const of = (key: string) => {
    let s = keys.get(key);
    if (!s) keys.set(key, (s = { versions: new Map(), erased: new Set(), purged: new Set(), tags: new Map() }));
    return s;
  };
  for (const c of changes) {
    if (c.kind === 'version' && c.version.bucket === bucket) {
      const s = of(c.version.key);
      s.versions.set(c.version.versionId, c.version);
      if (c.erase) s.erased.add(c.version.versionId);
    } else if (c.kind === 'purge' && c.bucket === bucket) {
      of(c.key).purged.add(c.versionId);
    } else if (c.kind === 'version-register' && c.name === 'tags' && c.bucket === bucket) {
      const s = of(c.key);
      const cur = s.tags.get(c.versionId);
      if (!cur || newer(c.stamp, cur[0])) s.tags.set(c.versionId, [c.stamp, c.value]);
    }
  }
  const lines: string[] = [];
  const current: string[] = [];
  for (const key of [...keys.keys()].sort(byBytes)) {
    const s = keys.get(key)!;
    let mark: string | undefined;
    for (const [id, v] of s.versions) if (v.isNull && (mark === undefined || newer(id, mark))) mark = id;
    const stored = [...s.versions.keys()]
      .filter((id) => !s.purged.has(id) && (s.versions.get(id)!.isNull ? id === mark && !s.erased.has(id) : true))
      .sort();
    for (const id of stored) {
      const v = s.versions.get(id)!;
      const t = s.tags.get(id);
      const tags = t && newer(t[0], id) ? t[1] : (v.tags ?? {});
      const data = v.body?.kind === 'inline' ? Buffer.from(v.body.data).toString() : undefined;
      lines.push(versionLine({ key, id, deleteMarker: v.deleteMarker, isNull: !!v.isNull, etag: v.etag, tags, ...(data ? { data } : {}) }));
      if (id === stored[0] && !v.deleteMarker) current.push(`current ${key} ${id.slice(0, 20)}…${id.slice(20)} tags=${JSON.stringify(tags)}`);
    }
  }
  return [...lines, ...current];
}

/** S3 keys (and the store) order by UTF-8 bytes */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
