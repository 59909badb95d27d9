/**
 * The merge carried out on real metadata (LMDB): two regions that receive the same changes in
 * different orders, with duplicates, end with byte-identical object records — versions,
 * current index, null mark, tombstones, inline bytes and tags.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { encodeBucket } from '../../metadata/records.js';
import { pack, subspaceRange, unpack } from '../../metadata/tuple.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { kBucket } from '../../metadata/version-store.js';
import { applyChanges, NotReadyError } from '../../replication/apply.js';
import { tempLayer, type TempLayer } from '../metadata/lmdb-temp.js';

const CREATED = 1_700_000_000_000;
let a: TempLayer;
let b: TempLayer;
let n = 0;

beforeAll(async () => {
  a = await tempLayer('iad');
  b = await tempLayer('fra');
});
afterAll(async () => {
  await a.cleanup();
  await b.cleanup();
});

async function makeBucket(kv: KvStore, name: string, createdAt = CREATED): Promise<void> {
  await kv.transact(async (tx) =>
    tx.set(kBucket(name), encodeBucket({ name, owner: 'AK1', createdAt, region: 'iad', versioning: 'Enabled', acl: 'private' })),
  );
}

/**
 * every object record of a bucket, as bytes. A register row ('vr') of a version not stored is
 * inert (no version shows it; it only waits in case the version arrives) and may differ
 * between regions that saw a duplicate at another moment: those are left out.
 */
async function dump(kv: KvStore, bucket: string): Promise<string[]> {
  const out: string[] = [];
  for (const space of ['c', 'v', 'nv', 't', 'd', 'vr']) {
    const r = subspaceRange([space, bucket]);
    for (const p of await kv.read((tx) => tx.getRange(r.begin, r.end))) {
      if (space === 'vr') {
        const [, , key, vid] = unpack(p.key) as string[];
        if ((await kv.read((tx) => tx.get(pack(['v', bucket, key!, vid!])))) === undefined) continue;
      }
      out.push(Buffer.from(p.key).toString('hex') + '=' + Buffer.from(p.value).toString('hex'));
    }
  }
  return out;
}

const KEYS = ['k1', 'k2'];

function changeSet(bucket: string) {
  const version = fc
    .record({
      key: fc.constantFrom(...KEYS),
      wall: fc.integer({ min: 1, max: 30 }),
      region: fc.constantFrom('iad', 'fra', 'sin'),
      isNull: fc.boolean(),
      erase: fc.boolean(),
      deleteMarker: fc.boolean(),
      text: fc.string({ maxLength: 4 }),
    })
    .map((r) => {
      const id = makeVersionId({ wall: r.wall, logical: 0 }, r.region, null);
      const erase = r.isNull && r.erase;
      const c: Change = {
        kind: 'version',
        bucketCreatedAt: CREATED,
        version: {
          bucket,
          key: r.key,
          versionId: id,
          hlc: { wall: r.wall, logical: 0 },
          region: r.region,
          deleteMarker: r.deleteMarker && !erase,
          size: r.text.length,
          etag: 'e-' + r.text,
          lastModified: r.wall,
          owner: 'AK1',
          headers: {},
          userMetadata: {},
          checksums: {},
          ...(r.isNull ? { isNull: true } : {}),
          ...(r.deleteMarker || erase ? {} : { body: { kind: 'inline' as const, data: Buffer.from(r.text) } }),
        },
        ...(erase ? { erase: true as const } : {}),
      };
      return c;
    });
  return fc.uniqueArray(version, { selector: (c) => (c.kind === 'version' ? c.version.key + c.version.versionId : ''), minLength: 1, maxLength: 10 }).chain((versions) => {
    const targets = versions.map((c) => (c.kind === 'version' ? { key: c.version.key, id: c.version.versionId } : { key: '', id: '' }));
    const purge = fc.constantFrom(...targets).chain((t) =>
      fc.integer({ min: 31, max: 40 }).map((w): Change => ({ kind: 'purge', bucketCreatedAt: CREATED, bucket, key: t.key, versionId: t.id, stamp: makeVersionId({ wall: w, logical: 0 }, 'sin', null) })),
    );
    // a stamp names one write: two register changes never share one
    const tags = fc.tuple(fc.constantFrom(...targets), fc.integer({ min: 1, max: 40 }), fc.constantFrom('red', 'blue', '')).map(
      ([t, w, colour]): Change => ({
        kind: 'version-register',
        bucketCreatedAt: CREATED,
        bucket,
        key: t.key,
        versionId: t.id,
        name: 'tags',
        value: colour ? { colour } : {},
        stamp: makeVersionId({ wall: w, logical: 1 }, 'fra', null),
      }),
    );
    return fc.tuple(fc.constant(versions), fc.array(purge, { maxLength: 3 }), fc.uniqueArray(tags, { maxLength: 3, selector: (c) => (c.kind === 'version-register' ? c.stamp : '') })).map(([v, p, t]) => [...v, ...p, ...t]);
  });
}

/** JSON reviver: bucket 'B' renamed, inline bytes (serialised Buffers) restored */
function revive(bucket: string) {
  return (k: string, v: unknown) => {
    if (k === 'bucket' && v === 'B') return bucket;
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') return Buffer.from((v as { data: number[] }).data);
    return v;
  };
}

function twoDeliveries(changes: Change[]) {
  const order = fc.shuffledSubarray(changes, { minLength: changes.length, maxLength: changes.length });
  return fc.tuple(order, order, fc.subarray(changes));
}

describe('applying replicated changes to LMDB', () => {
  it('any order and duplication of the same changes leaves identical records', async () => {
    await fc.assert(
      fc.asyncProperty(changeSet('B').chain((cs) => twoDeliveries(cs)), async ([first, second, again]) => {
        // a fresh bucket for every run, shrinking runs included
        const bucket = `b${n++}`;
        const rename = (cs: Change[]) => cs.map((c) => JSON.parse(JSON.stringify(c), revive(bucket)) as Change);
        await makeBucket(a.kv, bucket);
        await makeBucket(b.kv, bucket);
        for (const c of rename(first)) await applyChanges(a.kv, [c]);
        // the second region gets them in another order, some twice, some batched together
        const later = rename([...second, ...again]);
        await applyChanges(b.kv, later.slice(0, 2));
        for (const c of later.slice(2)) await applyChanges(b.kv, [c]);
        expect(await dump(b.kv, bucket)).toEqual(await dump(a.kv, bucket));
      }),
      { numRuns: 60 },
    );
  });

  it('the current version is the greatest stored, and GET reads it', async () => {
    const bucket = 'cur';
    await makeBucket(a.kv, bucket);
    const mk = (wall: number, region: string, text: string): Change => ({
      kind: 'version',
      bucketCreatedAt: CREATED,
      version: {
        bucket, key: 'k', versionId: makeVersionId({ wall, logical: 0 }, region, null), hlc: { wall, logical: 0 }, region,
        deleteMarker: false, size: text.length, etag: text, lastModified: wall, owner: 'AK1', headers: {}, userMetadata: {}, checksums: {},
        body: { kind: 'inline', data: Buffer.from(text) },
      },
    });
    await applyChanges(a.kv, [mk(5, 'fra', 'newer')]);
    await applyChanges(a.kv, [mk(3, 'iad', 'older')]);
    const got = await a.layer.getObject(bucket, 'k');
    expect(got.etag).toBe('newer');
    expect(Buffer.from((got.body as { data: Uint8Array }).data).toString()).toBe('newer');
    const page = await a.layer.listObjectVersions({ bucket, maxKeys: 10 });
    expect(page.versions.map((v) => [v.version.etag, v.isLatest])).toEqual([['newer', true], ['older', false]]);
  });

  it('a change for a bucket not yet here waits; one for a deleted older bucket of the same name is dropped', async () => {
    const c: Change = { kind: 'purge', bucketCreatedAt: CREATED, bucket: 'later', key: 'k', versionId: makeVersionId({ wall: 1, logical: 0 }, 'iad', null), stamp: makeVersionId({ wall: 2, logical: 0 }, 'iad', null) };
    await expect(applyChanges(a.kv, [c])).rejects.toBeInstanceOf(NotReadyError);
    await makeBucket(a.kv, 'later', CREATED + 10);
    await applyChanges(a.kv, [c]);
    expect(await dump(a.kv, 'later')).toEqual([]);
  });
});
