/**
 * The merge carried out on real metadata (LMDB): two regions that receive the same changes in
 * different orders, batches and duplicates end with byte-identical records — the bucket
 * record and its incarnations, versions, current index, null mark, tombstones, inline bytes,
 * tags, object ACLs, bucket settings and access keys.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { encodeBucket } from '../../metadata/records.js';
import { pack, subspaceRange, unpack } from '../../metadata/tuple.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { kBucket } from '../../metadata/version-store.js';
import { VERSION_BATCH } from '../../metadata/bucket-drop.js';
import { createBucketConfigStore } from '../../metadata/bucket-config.js';
import type { BucketRecord } from '../../metadata/types.js';
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
  for (const space of ['c', 'v', 'nv', 't', 'd', 'vr', 'oa', 'bc', 'br', 'u']) {
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
/** two incarnations of the bucket: the second exists only after the first was deleted */
const C1 = CREATED;
const C2 = CREATED + 1000;
type Scenario = 'kept' | 'deleted' | 'recreated';

const stampOf = (wall: number, logical: number, region = 'fra') => makeVersionId({ wall, logical }, region, null);

/** a version change of bucket 'B' (renamed per run) */
const versionArb = (incarnations: number[]) =>
  fc
    .record({
      created: fc.constantFrom(...incarnations),
      key: fc.constantFrom(...KEYS),
      wall: fc.integer({ min: 1, max: 30 }),
      region: fc.constantFrom('iad', 'fra', 'sin'),
      isNull: fc.boolean(),
      erase: fc.boolean(),
      deleteMarker: fc.boolean(),
      text: fc.string({ maxLength: 4 }),
    })
    .map((r): Extract<Change, { kind: 'version' }> => {
      const id = makeVersionId({ wall: r.wall, logical: 0 }, r.region, null);
      const erase = r.isNull && r.erase;
      return {
        kind: 'version',
        bucketCreatedAt: r.created,
        version: {
          bucket: 'B',
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
    });

/**
 * a register write before its stamp is given: stamps are made unique afterwards (a stamp
 * names one write), from the generated wall and the write's position
 */
type Unstamped = RegisterWrite extends infer W ? (W extends unknown ? Omit<W, 'stamp'> & { wall: number } : never) : never;
type RegisterWrite = Extract<Change, { kind: 'purge' | 'version-register' | 'bucket-register' | 'access-key' }>;

function registerArb(incarnations: number[], targets: { created: number; key: string; id: string }[]): fc.Arbitrary<Unstamped> {
  const wall = fc.integer({ min: 1, max: 40 });
  const onVersion = fc.tuple(fc.constantFrom(...targets), wall, fc.constantFrom('red', 'blue', ''), fc.boolean()).map(
    ([t, w, colour, acl]): Unstamped =>
      acl
        ? { kind: 'version-register', bucketCreatedAt: t.created, bucket: 'B', key: t.key, versionId: t.id, name: 'acl', value: colour ? 'public-read' : 'private', wall: w }
        : { kind: 'version-register', bucketCreatedAt: t.created, bucket: 'B', key: t.key, versionId: t.id, name: 'tags', value: colour ? { colour } : {}, wall: w },
  );
  const purge = fc
    .tuple(fc.constantFrom(...targets), fc.integer({ min: 31, max: 40 }))
    .map(([t, w]): Unstamped => ({ kind: 'purge', bucketCreatedAt: t.created, bucket: 'B', key: t.key, versionId: t.id, wall: w }));
  const setting = fc.tuple(fc.constantFrom(...incarnations), wall, fc.constantFrom('versioning', 'cors', 'public'), fc.boolean()).map(
    ([created, w, name, present]): Unstamped => ({
      kind: 'bucket-register',
      bucketCreatedAt: created,
      bucket: 'B',
      name,
      value: !present && name !== 'versioning' ? null : name === 'versioning' ? (present ? 'Enabled' : 'Suspended') : name === 'cors' ? [{ w }] : true,
      wall: w,
    }),
  );
  const key = fc.tuple(fc.constantFrom('AK-A', 'AK-B'), wall, fc.boolean()).map(
    ([id, w, present]): Unstamped => ({
      kind: 'access-key',
      accessKeyId: id,
      record: present ? { accessKeyId: id, secretAccessKey: 's' + w, root: false, createdAt: w } : null,
      wall: w,
    }),
  );
  return fc.oneof(onVersion, purge, setting, key);
}

/** one control-region history of the bucket and every kind of change made in it */
const changeSet = fc.constantFrom<Scenario>('kept', 'deleted', 'recreated').chain((scenario) => {
  const incarnations = scenario === 'recreated' ? [C1, C2] : [C1];
  const record = (createdAt: number) => ({ name: 'B', owner: 'AK1', createdAt, region: 'iad', versioning: 'Unversioned' as const, acl: 'private' as const });
  const buckets: Change[] = [{ kind: 'bucket-created', record: record(C1), stamp: stampOf(1, 0, 'iad') }];
  if (scenario !== 'kept') buckets.push({ kind: 'bucket-deleted', name: 'B', createdAt: C1, stamp: stampOf(41, 0, 'iad') });
  if (scenario === 'recreated') buckets.push({ kind: 'bucket-created', record: record(C2), stamp: stampOf(42, 0, 'iad') });
  return fc
    .uniqueArray(versionArb(incarnations), { selector: (c) => c.bucketCreatedAt + c.version.key + c.version.versionId, minLength: 1, maxLength: 10 })
    .chain((versions) => {
      const targets = versions.map((c) => ({ created: c.bucketCreatedAt, key: c.version.key, id: c.version.versionId }));
      return fc.tuple(fc.constant(versions), fc.array(registerArb(incarnations, targets), { maxLength: 8 }));
    })
    .map(([versions, writes]): Change[] => {
      const stamped = writes.map(({ wall, ...c }, i) => ({ ...c, stamp: stampOf(wall, i + 1) }) as Change);
      return [...buckets, ...versions, ...stamped];
    });
});

/** the change with bucket 'B' and keys 'AK-*' renamed for one run (each run has its own) */
function renamed(c: Change, bucket: string, run: number): Change {
  const d = structuredClone(c);
  switch (d.kind) {
    case 'version':
      d.version.bucket = bucket;
      break;
    case 'bucket-created':
      d.record.name = bucket;
      break;
    case 'bucket-deleted':
      d.name = bucket;
      break;
    case 'access-key':
      d.accessKeyId += `-${run}`;
      if (d.record) d.record.accessKeyId = d.accessKeyId;
      break;
    default:
      d.bucket = bucket;
  }
  return d;
}

/**
 * delivers changes as a sender would: in batches, a batch that must wait (NotReadyError) sent
 * again after the others; every change ends up applied or dropped
 */
async function deliver(kv: KvStore, changes: Change[], batch: number): Promise<void> {
  const queue: Change[][] = [];
  for (let i = 0; i < changes.length; i += batch) queue.push(changes.slice(i, i + batch));
  for (let tries = 0; queue.length > 0; tries++) {
    if (tries > 50 * changes.length + 50) throw new Error('delivery made no progress');
    const next = queue.shift()!;
    try {
      await applyChanges(kv, next);
    } catch (e) {
      if (!(e instanceof NotReadyError)) throw e;
      queue.push(next);
    }
  }
}

/** everything a bucket's name and the run's keys hold, as bytes (inert registers left out, see dump) */
async function dumpAll(kv: KvStore, bucket: string, run: number): Promise<string[]> {
  const out = await dump(kv, bucket);
  for (const space of ['b', 'bx', 'bd']) {
    const raw = await kv.read((tx) => tx.get(pack([space, bucket])));
    if (raw) out.push(space + '=' + Buffer.from(raw).toString('hex'));
  }
  for (const id of ['AK-A', 'AK-B']) {
    for (const space of ['k', 'ks']) {
      const raw = await kv.read((tx) => tx.get(pack([space, `${id}-${run}`])));
      if (raw) out.push(space + id + '=' + Buffer.from(raw).toString('hex'));
    }
  }
  return out;
}

function twoDeliveries(changes: Change[]) {
  const order = fc.shuffledSubarray(changes, { minLength: changes.length, maxLength: changes.length });
  return fc.tuple(order, order, fc.subarray(changes), fc.integer({ min: 1, max: 3 }));
}

describe('applying replicated changes to LMDB', () => {
  it('any order, batching and duplication of every kind of change leaves identical records', async () => {
    await fc.assert(
      fc.asyncProperty(changeSet.chain((cs) => twoDeliveries(cs)), async ([first, second, again, batch]) => {
        // a fresh bucket name and fresh key ids for every run, shrinking runs included
        const run = n++;
        const bucket = `b${run}`;
        const rename = (cs: Change[]) => cs.map((c) => renamed(c, bucket, run));
        await deliver(a.kv, rename(first), 1);
        // the second region gets them in another order, some twice, batched
        await deliver(b.kv, rename([...second, ...again]), batch);
        expect(await dumpAll(b.kv, bucket, run)).toEqual(await dumpAll(a.kv, bucket, run));
      }),
      { numRuns: 100 },
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

  it('a batch with a change that must wait still applies the others, and says what waits', async () => {
    await makeBucket(a.kv, 'batch');
    const v = mkVersion('batch', 'k', 7, 'iad', 'x');
    const early: Change = { ...mkVersion('not-yet', 'k', 7, 'iad', 'y') };
    await expect(applyChanges(a.kv, [early, v])).rejects.toThrow(/not-yet/);
    expect((await a.layer.getObject('batch', 'k')).etag).toBe('x');
  });
});

describe('buckets created and deleted by the control region', () => {
  const record = (name: string, createdAt: number): BucketRecord => ({ name, owner: 'AK1', createdAt, region: 'iad', versioning: 'Unversioned', acl: 'private' });
  const stamp = (wall: number) => makeVersionId({ wall, logical: 0 }, 'iad', null);

  it('a bucket arrives once; a newer one of the same name waits until the older one is deleted here', async () => {
    await applyChanges(b.kv, [{ kind: 'bucket-created', record: record('photos', CREATED), stamp: stamp(1) }]);
    await applyChanges(b.kv, [{ kind: 'bucket-created', record: record('photos', CREATED), stamp: stamp(1) }]);
    expect(await b.layer.getBucket('photos')).toEqual(record('photos', CREATED));
    const newer: Change = { kind: 'bucket-created', record: record('photos', CREATED + 5), stamp: stamp(3) };
    await expect(applyChanges(b.kv, [newer])).rejects.toBeInstanceOf(NotReadyError);
    await applyChanges(b.kv, [{ kind: 'bucket-deleted', name: 'photos', createdAt: CREATED, stamp: stamp(2) }]);
    await applyChanges(b.kv, [newer]);
    expect((await b.layer.getBucket('photos')).createdAt).toBe(CREATED + 5);
    // the older bucket's creation replayed late changes nothing
    await applyChanges(b.kv, [{ kind: 'bucket-created', record: record('photos', CREATED), stamp: stamp(1) }]);
    expect((await b.layer.getBucket('photos')).createdAt).toBe(CREATED + 5);
  });

  it(`a deleted bucket's records all go, more versions than one batch (${VERSION_BATCH}) included; late changes for it are dropped`, async () => {
    await applyChanges(b.kv, [{ kind: 'bucket-created', record: record('gone', CREATED), stamp: stamp(1) }]);
    const changes: Change[] = [];
    for (let i = 0; i < VERSION_BATCH + 5; i++) changes.push(mkVersion('gone', `k${i}`, 10 + i, 'fra', 'v' + i));
    const blob = mkVersion('gone', 'blob', 5, 'iad', '');
    blob.version.body = { kind: 'remote', region: 'iad' };
    const erased = mkVersion('gone', 'erased', 6, 'sin', '');
    erased.version.isNull = true;
    changes.push(blob, { ...erased, erase: true });
    changes.push({ kind: 'purge', bucketCreatedAt: CREATED, bucket: 'gone', key: 'k0', versionId: changes[0]!.kind === 'version' ? changes[0].version.versionId : '', stamp: stamp(400) });
    changes.push({ kind: 'bucket-register', bucketCreatedAt: CREATED, bucket: 'gone', name: 'cors', value: [{ a: 1 }], stamp: stamp(401) });
    for (let i = 0; i < changes.length; i += 50) await applyChanges(b.kv, changes.slice(i, i + 50));
    // k0 was purged; the blob version came in its place
    expect((await b.layer.listObjects({ bucket: 'gone', maxKeys: 1000 })).contents.length).toBe(VERSION_BATCH + 5);

    await applyChanges(b.kv, [{ kind: 'bucket-deleted', name: 'gone', createdAt: CREATED, stamp: stamp(500) }]);
    await expect(b.layer.getBucket('gone')).rejects.toMatchObject({ code: 'NoSuchBucket' });
    expect(await dump(b.kv, 'gone')).toEqual([]);
    expect(await b.kv.read((tx) => tx.get(pack(['bd', 'gone'])))).toBeUndefined();
    // a late version of the deleted bucket is dropped, not kept waiting
    await applyChanges(b.kv, [mkVersion('gone', 'late', 600, 'fra', 'late')]);
    expect(await dump(b.kv, 'gone')).toEqual([]);
    // and the name is free for a new bucket
    await applyChanges(b.kv, [{ kind: 'bucket-created', record: record('gone', CREATED + 1), stamp: stamp(700) }]);
    expect((await b.layer.listObjects({ bucket: 'gone', maxKeys: 10 })).contents).toEqual([]);
  });
});

describe('last writer wins', () => {
  it('a late, older bucket setting or access key loses; a deleted key stays deleted', async () => {
    await makeBucket(b.kv, 'lww');
    const setting = (wall: number, value: unknown): Change => ({ kind: 'bucket-register', bucketCreatedAt: CREATED, bucket: 'lww', name: 'cors', value, stamp: makeVersionId({ wall, logical: 0 }, 'sin', null) });
    await applyChanges(b.kv, [setting(20, null), setting(10, [{ old: true }])]);
    expect(await b.kv.read((tx) => tx.get(pack(['bc', 'lww', 'cors'])))).toBeUndefined();
    await applyChanges(b.kv, [setting(30, [{ newest: true }]), setting(25, [{ older: true }])]);
    const cfg = createBucketConfigStore(b.kv, { region: 'fra' });
    expect(await cfg.get('lww', 'cors')).toEqual([{ newest: true }]);

    const key = (wall: number, present: boolean): Change => ({
      kind: 'access-key', accessKeyId: 'AK-LWW', record: present ? { accessKeyId: 'AK-LWW', secretAccessKey: 's' + wall, root: false, createdAt: wall } : null,
      stamp: makeVersionId({ wall, logical: 0 }, 'iad', null),
    });
    await applyChanges(b.kv, [key(5, true), key(9, false), key(7, true)]);
    expect(await b.layer.getAccessKey('AK-LWW')).toBeUndefined();
    await applyChanges(b.kv, [key(11, true)]);
    expect((await b.layer.getAccessKey('AK-LWW'))?.secretAccessKey).toBe('s11');
  });
});

function mkVersion(bucket: string, key: string, wall: number, region: string, text: string): Extract<Change, { kind: 'version' }> {
  return {
    kind: 'version',
    bucketCreatedAt: CREATED,
    version: {
      bucket, key, versionId: makeVersionId({ wall, logical: 0 }, region, null), hlc: { wall, logical: 0 }, region,
      deleteMarker: false, size: text.length, etag: text, lastModified: wall, owner: 'AK1', headers: {}, userMetadata: {}, checksums: {},
      body: { kind: 'inline', data: Buffer.from(text) },
    },
  };
}
