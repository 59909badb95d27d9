/**
 * metadata/fdb.ts without a FoundationDB cluster (none can be installed here): the store runs
 * over a stand-in for the `foundationdb` binding built on a real LMDB store, which gives it
 * what the binding gives — serializable transactions with read-your-writes, snapshot reads,
 * ranges with limit/reverse, and a retry loop that runs the body again after a conflict.
 * The stand-in can also do what FDB may do after a commit: report commit_unknown_result
 * although the commit landed. This checks everything of fdb.ts except the wire to a real
 * cluster: key prefixing, limits, attempts, and that a retried commit writes nothing twice.
 * kv-fdb.test.ts runs the same conformance suite against a real cluster when one is given.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFdbWith, type FdbModule, type FdbTransaction } from '../../metadata/fdb.js';
import type { KvStore, KvTransaction } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import { pack } from '../../metadata/tuple.js';
import { kvConformance } from './kv-conformance.js';

interface Double {
  binding: FdbModule;
  /** the next `n` commits that land are reported to the retry loop as commit_unknown_result */
  unknownResults(n: number): void;
  /** how many times the body ran */
  runs(): number;
}

function bindingOver(kv: KvStore): Double {
  let unknown = 0;
  let runs = 0;
  const adapt = (tx: KvTransaction, snapshot = false): FdbTransaction => ({
    get: async (k) => {
      const v = await tx.get(k, { snapshot });
      return v && Buffer.from(v);
    },
    getRangeAll: async (b, e, o = {}) =>
      (await tx.getRange(b, e, { limit: o.limit, reverse: o.reverse, snapshot })).map((p) => [Buffer.from(p.key), Buffer.from(p.value)]),
    set: (k, v) => tx.set(k, v),
    clear: (k) => tx.clear(k),
    clearRange: (b, e) => tx.clearRange(b, e),
    snapshot: () => adapt(tx, true),
  });
  const binding: FdbModule = {
    setAPIVersion: () => undefined,
    open: () => ({
      async doTransaction(body) {
        for (;;) {
          // the LMDB store re-runs the body on conflict, as fdb_transaction_on_error does
          const result = await kv.transact(
            async (tx) => {
              runs++;
              return body(adapt(tx));
            },
            { maxAttempts: 1_000_000 },
          );
          if (unknown > 0) {
            unknown--;
            continue; // committed, but the client heard 1021: the retry loop runs the body again
          }
          return result;
        }
      },
      close: () => undefined,
    }),
  };
  return { binding, unknownResults: (n) => void (unknown = n), runs: () => runs };
}

async function fresh(): Promise<{ lmdb: KvStore; dbl: Double; store: KvStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'erne-fdb-double-'));
  const lmdb = await openLmdb(dir);
  const dbl = bindingOver(lmdb);
  return { lmdb, dbl, store: openFdbWith(dbl.binding, { prefix: 'erne-t' }), dir };
}

kvConformance('fdb.ts over a binding stand-in', async () => {
  let { lmdb, store, dir } = await fresh();
  return {
    get kv() {
      return store;
    },
    // close both the FDB store and the LMDB under the stand-in, then open them on the same files
    async reopen() {
      await store.close();
      await lmdb.close();
      lmdb = await openLmdb(dir);
      store = openFdbWith(bindingOver(lmdb).binding, { prefix: 'erne-t' });
      return store;
    },
    async cleanup() {
      await store.close();
      await lmdb.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('fdb.ts: keys, markers and commit_unknown_result', () => {
  it('keeps every key under its prefix (never in FDB system space), markers apart from data', async () => {
    const { lmdb, store, dir } = await fresh();
    await store.transact(async (tx) => tx.set(Buffer.from([0xff, 0xff]), Buffer.from('v')));
    const raw = await lmdb.read((tx) => tx.getRange(Buffer.from([0]), Buffer.from([0xff])));
    const data = pack(['erne-t', 'kv']);
    const markers = pack(['erne-t', 'tx']);
    expect(raw.map((p) => Buffer.from(p.key).subarray(0, data.length).toString('hex')).sort()).toEqual([data.toString('hex'), markers.toString('hex')].sort());
    expect(raw.some((p) => Buffer.from(p.key).equals(Buffer.concat([data, Buffer.from([0xff, 0xff])])))).toBe(true);
    // a read-only transaction leaves no marker
    await store.transact(async (tx) => tx.get(Buffer.from('x')));
    expect((await lmdb.read((tx) => tx.getRange(Buffer.from([0]), Buffer.from([0xff])))).length).toBe(2);
    await lmdb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a commit reported unknown is not applied twice; the committed attempt\'s result is returned', async () => {
    const { lmdb, dbl, store, dir } = await fresh();
    const key = Buffer.from('counter');
    dbl.unknownResults(2);
    let fnRuns = 0;
    const runsBefore = dbl.runs();
    const got = await store.transact(async (tx) => {
      fnRuns++;
      const n = Number((await tx.get(key))?.toString() ?? '0') + 1;
      tx.set(key, Buffer.from(String(n)));
      return n;
    });
    expect(got).toBe(1);
    expect((await store.read((tx) => tx.get(key)))?.toString()).toBe('1');
    // the binding ran the body three times; the two retries found the marker and stopped there
    expect(dbl.runs() - runsBefore).toBeGreaterThanOrEqual(3);
    expect(fnRuns).toBe(1);
    await lmdb.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('object layer: a retried If-None-Match PUT neither fails nor makes a second version', async () => {
    const { lmdb, dbl, store, dir } = await fresh();
    const layer = createObjectLayer(store, { region: 'r1' });
    await layer.createBucket({ name: 'b', owner: 'o', region: 'r1' });
    await layer.setBucketVersioning('b', 'Enabled');
    const obj = (data: string) => ({
      bucket: 'b',
      key: 'k',
      size: data.length,
      etag: 'e-' + data,
      owner: 'o',
      headers: {},
      userMetadata: {},
      checksums: {},
      body: { kind: 'inline' as const, data: Buffer.from(data) },
    });
    dbl.unknownResults(1);
    // without the marker the retry would see its own version and answer PreconditionFailed
    const v1 = await layer.putObject(obj('first'), { ifNoneMatch: '*' });
    dbl.unknownResults(1);
    const v2 = await layer.putObject(obj('second'));
    const page = await layer.listObjectVersions({ bucket: 'b', maxKeys: 1000 });
    expect(page.versions.map((v) => v.version.versionId)).toEqual([v2.versionId, v1.versionId]);
    expect((await layer.getObject('b', 'k')).versionId).toBe(v2.versionId);
    await lmdb.close();
    await rm(dir, { recursive: true, force: true });
  });
});
