/**
 * The merge converges: any order, duplication and replay of one set of changes gives the
 * same key state, and that state is the one the rule in metadata/merge.ts names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeVersionId } from '../../metadata/version-id.js';
import { isNewer, planPurge, planVersion, takesRegister, type KeyFacts, type Plan } from '../../metadata/merge.js';

type Change = { kind: 'version'; id: string; isNull: boolean; erase: boolean } | { kind: 'purge'; id: string };

/** one key's state in a region, as the metadata adapter keeps it */
class KeyModel implements KeyFacts {
  readonly versions = new Set<string>();
  readonly tombstones = new Set<string>();
  nullMark: string | undefined;
  stored = (id: string) => this.versions.has(id);
  tombstoned = (id: string) => this.tombstones.has(id);

  apply(c: Change): void {
    const plan = c.kind === 'version' ? planVersion(this, { id: c.id, isNull: c.isNull, erase: c.erase }) : planPurge(this, c.id);
    this.carryOut(plan, c.id);
  }

  private carryOut(p: Plan, id: string): void {
    if (p.remove !== undefined) this.versions.delete(p.remove);
    if (p.tombstone !== undefined) this.tombstones.add(p.tombstone);
    if (p.nullMark !== undefined) this.nullMark = p.nullMark;
    if (p.store) this.versions.add(id);
  }

  snapshot() {
    return { versions: [...this.versions].sort(), tombstones: [...this.tombstones].sort(), nullMark: this.nullMark };
  }
}

const versionChange = fc
  .record({
    wall: fc.integer({ min: 0, max: 50 }),
    logical: fc.integer({ min: 0, max: 2 }),
    region: fc.constantFrom('iad', 'fra', 'sin'),
    isNull: fc.boolean(),
    erase: fc.boolean(),
  })
  .map(({ wall, logical, region, isNull, erase }) => ({
    kind: 'version' as const,
    id: makeVersionId({ wall, logical }, region, null),
    isNull,
    erase: isNull && erase,
  }));

/** a set of distinct versions plus purges of some of them (and of ids never written) */
const changeSet = fc
  .uniqueArray(versionChange, { selector: (c) => c.id, minLength: 1, maxLength: 12 })
  .chain((versions) =>
    fc.tuple(fc.constant(versions), fc.subarray(versions.map((v) => v.id)), fc.uniqueArray(versionChange.map((v) => v.id), { maxLength: 2 })),
  )
  .map(([versions, purged, ghosts]) => {
    const changes: Change[] = [...versions];
    for (const id of new Set([...purged, ...ghosts])) changes.push({ kind: 'purge', id });
    return changes;
  });

/** the same changes, shuffled, some repeated */
function delivery(changes: Change[]) {
  return fc.tuple(fc.shuffledSubarray(changes, { minLength: changes.length, maxLength: changes.length }), fc.subarray(changes)).chain(([order, again]) =>
    fc.shuffledSubarray([...order, ...again], { minLength: order.length + again.length, maxLength: order.length + again.length }),
  );
}

function run(changes: Change[]) {
  const m = new KeyModel();
  for (const c of changes) m.apply(c);
  return m.snapshot();
}

/** the state the rule names, computed directly from the set of changes */
function expected(changes: Change[]) {
  const purged = new Set(changes.filter((c) => c.kind === 'purge').map((c) => c.id));
  const versions = changes.filter((c): c is Extract<Change, { kind: 'version' }> => c.kind === 'version');
  const nulls = versions.filter((v) => v.isNull).sort((a, b) => (a.id < b.id ? -1 : 1));
  const mark = nulls[0];
  const stored = versions.filter((v) => !purged.has(v.id) && (!v.isNull || (v === mark && !v.erase))).map((v) => v.id);
  return { versions: [...new Set(stored)].sort(), tombstones: [...purged].sort(), nullMark: mark?.id };
}

describe('replication merge', () => {
  it('any order and duplication of the same changes gives the same state', () => {
    fc.assert(
      fc.property(changeSet.chain((cs) => fc.tuple(fc.constant(cs), delivery(cs), delivery(cs))), ([cs, a, b]) => {
        expect(run(a)).toEqual(run(b));
        expect(run(a)).toEqual(expected(cs));
      }),
      { numRuns: 2000 },
    );
  });

  it('a late copy of a version deleted for good never comes back', () => {
    const m = new KeyModel();
    const id = makeVersionId({ wall: 5, logical: 0 }, 'fra', null);
    m.apply({ kind: 'purge', id });
    m.apply({ kind: 'version', id, isNull: false, erase: false });
    expect(m.snapshot().versions).toEqual([]);
  });

  it('an unversioned DELETE removes an older PUT that arrives after it, and loses to a newer one', () => {
    const put1 = makeVersionId({ wall: 1, logical: 0 }, 'iad', null);
    const del = makeVersionId({ wall: 2, logical: 0 }, 'fra', null);
    const put3 = makeVersionId({ wall: 3, logical: 0 }, 'sin', null);
    const m = new KeyModel();
    m.apply({ kind: 'version', id: del, isNull: true, erase: true });
    m.apply({ kind: 'version', id: put1, isNull: true, erase: false });
    expect(m.snapshot().versions).toEqual([]);
    m.apply({ kind: 'version', id: put3, isNull: true, erase: false });
    expect(m.snapshot().versions).toEqual([put3]);
  });

  it('a null version replaced and then deleted for good does not let an older null return', () => {
    const n1 = makeVersionId({ wall: 1, logical: 0 }, 'iad', null);
    const n2 = makeVersionId({ wall: 2, logical: 0 }, 'fra', null);
    const m = new KeyModel();
    m.apply({ kind: 'version', id: n2, isNull: true, erase: false });
    m.apply({ kind: 'purge', id: n2 });
    m.apply({ kind: 'version', id: n1, isNull: true, erase: false });
    expect(m.snapshot().versions).toEqual([]);
  });

  it('a null version deleted for good before it arrives still takes the null slot', () => {
    const n1 = makeVersionId({ wall: 1, logical: 0 }, 'iad', null);
    const n2 = makeVersionId({ wall: 2, logical: 0 }, 'fra', null);
    const early = new KeyModel();
    early.apply({ kind: 'version', id: n1, isNull: true, erase: false });
    early.apply({ kind: 'purge', id: n2 });
    early.apply({ kind: 'version', id: n2, isNull: true, erase: false });
    const late = new KeyModel();
    late.apply({ kind: 'version', id: n2, isNull: true, erase: false });
    late.apply({ kind: 'purge', id: n2 });
    late.apply({ kind: 'version', id: n1, isNull: true, erase: false });
    expect(early.snapshot()).toEqual(late.snapshot());
    expect(early.snapshot()).toEqual({ versions: [], tombstones: [n2], nullMark: n2 });
  });

  it('registers keep the newest stamp whatever the order', () => {
    const stamp = fc.record({ wall: fc.nat(100), region: fc.constantFrom('iad', 'fra') }).map((s) => makeVersionId({ wall: s.wall, logical: 0 }, s.region, null));
    fc.assert(
      fc.property(fc.array(stamp, { minLength: 1, maxLength: 10 }), (stamps) => {
        let cur: string | undefined;
        for (const s of stamps) if (takesRegister(cur, s)) cur = s;
        const newest = [...stamps].sort()[0];
        expect(cur).toBe(newest);
        expect(isNewer(newest!, newest!)).toBe(false);
      }),
    );
  });
});
