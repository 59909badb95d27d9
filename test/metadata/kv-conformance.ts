/**
 * The behaviour every KvStore backend must show, written once. A backend's test file calls
 * kvConformance('name', open) where `open` gives a fresh, empty store and a cleanup. `reopen`
 * opens the same data again after close, for the persistence test (which is skipped, saying
 * so, for a handle without it).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KV_LIMITS, KvConflictError, KvLimitError, type KvStore } from '../../metadata/kv.js';

export interface KvHandle {
  kv: KvStore;
  /** close (if still open) and remove the data */
  cleanup(): Promise<void>;
  /** close and open the same data again */
  reopen?(): Promise<KvStore>;
}

const b = (...bytes: number[]) => Buffer.from(bytes);
const s = (text: string) => Buffer.from(text, 'utf8');
const hex = (pairs: { key: Uint8Array }[]) => pairs.map((p) => Buffer.from(p.key).toString('hex'));
const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString('utf8'));

export function kvConformance(name: string, open: () => Promise<KvHandle>): void {
  describe(`KvStore conformance: ${name}`, () => {
    let h: KvHandle | undefined;
    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });
    const fresh = async () => (h = await open()).kv;

    async function seed(kv: KvStore, keys: Buffer[]) {
      await kv.transact(async (tx) => {
        for (const k of keys) tx.set(k, Buffer.concat([s('v:'), k]));
      });
    }

    it('orders keys by unsigned bytes, shorter prefix first', async () => {
      const kv = await fresh();
      const keys = [b(0xff), b(0x01), b(0x01, 0x00), b(0x80), b(0x00), b(0x01, 0xff), b(0x7f, 0xff, 0xff)];
      await seed(kv, keys);
      const all = await kv.read((tx) => tx.getRange(b(0x00), b(0xff, 0xff)));
      expect(hex(all)).toEqual(['00', '01', '0100', '01ff', '7fffff', '80', 'ff']);
      expect(text(all[1]!.value)).toBe('v:\x01');
    });

    it('range is begin-inclusive, end-exclusive; empty or inverted ranges give nothing', async () => {
      const kv = await fresh();
      await seed(kv, [b(1), b(2), b(3), b(4)]);
      await kv.read(async (tx) => {
        expect(hex(await tx.getRange(b(2), b(4)))).toEqual(['02', '03']);
        expect(hex(await tx.getRange(b(1, 0), b(3, 0)))).toEqual(['02', '03']);
        expect(await tx.getRange(b(3), b(3))).toEqual([]);
        expect(await tx.getRange(b(4), b(2))).toEqual([]);
      });
    });

    it('reverse, limit and limit+reverse', async () => {
      const kv = await fresh();
      await seed(kv, [b(1), b(2), b(3), b(4), b(5)]);
      await kv.read(async (tx) => {
        expect(hex(await tx.getRange(b(2), b(5), { reverse: true }))).toEqual(['04', '03', '02']);
        expect(hex(await tx.getRange(b(1), b(6), { limit: 2 }))).toEqual(['01', '02']);
        expect(hex(await tx.getRange(b(1), b(6), { limit: 2, reverse: true }))).toEqual(['05', '04']);
        expect(hex(await tx.getRange(b(1), b(4, 0), { limit: 0 }))).toEqual(['01', '02', '03', '04']);
        expect(hex(await tx.getRange(b(0), b(2, 0), { reverse: true, limit: 10 }))).toEqual(['02', '01']);
      });
    });

    it('get returns undefined for absent keys and the stored bytes otherwise', async () => {
      const kv = await fresh();
      await kv.transact(async (tx) => tx.set(s('k'), b(0, 1, 2, 255)));
      await kv.read(async (tx) => {
        expect(Buffer.from((await tx.get(s('k')))!)).toEqual(b(0, 1, 2, 255));
        expect(await tx.get(s('absent'))).toBeUndefined();
      });
    });

    it('reads its own writes: get and getRange over buffered sets, clears and clearRange', async () => {
      const kv = await fresh();
      await seed(kv, [b(1), b(2), b(3), b(4), b(5), b(6)]);
      await kv.transact(async (tx) => {
        tx.set(b(2), s('new2'));
        tx.set(b(2, 5), s('inserted'));
        tx.clear(b(3));
        expect(text(await tx.get(b(2)))).toBe('new2');
        expect(await tx.get(b(3))).toBeUndefined();
        expect(hex(await tx.getRange(b(1), b(5)))).toEqual(['01', '02', '0205', '04']);
        tx.clearRange(b(4), b(6));
        tx.set(b(5), s('after-clear'));
        expect(await tx.get(b(4))).toBeUndefined();
        expect(text(await tx.get(b(5)))).toBe('after-clear');
        expect(hex(await tx.getRange(b(0), b(9)))).toEqual(['01', '02', '0205', '05', '06']);
        expect(hex(await tx.getRange(b(0), b(9), { reverse: true, limit: 3 }))).toEqual(['06', '05', '0205']);
        expect(hex(await tx.getRange(b(2), b(9), { limit: 2 }))).toEqual(['02', '0205']);
        tx.clearRange(b(2), b(2, 6));
        expect(hex(await tx.getRange(b(0), b(9)))).toEqual(['01', '05', '06']);
      });
      const after = await kv.read((tx) => tx.getRange(b(0), b(9)));
      expect(hex(after)).toEqual(['01', '05', '06']);
      expect(text(after[1]!.value)).toBe('after-clear');
    });

    it('clearRange removes exactly [begin, end)', async () => {
      const kv = await fresh();
      await seed(kv, [b(1), b(2), b(2, 0), b(2, 9), b(3), b(4)]);
      await kv.transact(async (tx) => tx.clearRange(b(2), b(3)));
      expect(hex(await kv.read((tx) => tx.getRange(b(0), b(9))))).toEqual(['01', '03', '04']);
    });

    it('a transaction never sees uncommitted writes of another; reads stay on one snapshot', async () => {
      const kv = await fresh();
      await kv.transact(async (tx) => tx.set(s('x'), s('0')));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let wrote!: () => void;
      const written = new Promise<void>((r) => (wrote = r));
      const writer = kv.transact(async (tx) => {
        tx.set(s('x'), s('1'));
        tx.set(s('y'), s('1'));
        wrote();
        await gate;
      });
      await written;
      const seen = await kv.read(async (tx) => {
        const first = text(await tx.get(s('x')));
        release();
        await writer;
        // the writer has committed now, but this snapshot predates it
        const again = text(await tx.get(s('x')));
        const y = await tx.get(s('y'));
        const range = await tx.getRange(s('a'), s('z'));
        return { first, again, y, n: range.length };
      });
      expect(seen).toEqual({ first: '0', again: '0', y: undefined, n: 1 });
      expect(text(await kv.read((tx) => tx.get(s('y'))))).toBe('1');
    });

    it('concurrent read-modify-write increments end with the exact total', async () => {
      const kv = await fresh();
      const key = s('counter');
      let runs = 0;
      const workers = 25;
      const perWorker = 4;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for (let i = 0; i < perWorker; i++) {
            await kv.transact(
              async (tx) => {
                runs++;
                const v = await tx.get(key);
                const n = v ? Number(text(v)) : 0;
                await new Promise((r) => setImmediate(r));
                tx.set(key, s(String(n + 1)));
              },
              { maxAttempts: 1000 },
            );
          }
        }),
      );
      expect(text(await kv.read((tx) => tx.get(key)))).toBe(String(workers * perWorker));
      // the same function ran more than once: conflicts were detected and retried
      expect(runs).toBeGreaterThan(workers * perWorker);
    });

    it('a range read conflicts with an insert into the range', async () => {
      const kv = await fresh();
      await seed(kv, [b(1, 1)]);
      let runs = 0;
      let inserted = false;
      await kv.transact(async (tx) => {
        runs++;
        const rows = await tx.getRange(b(1), b(2));
        if (!inserted) {
          inserted = true;
          await kv.transact(async (t2) => t2.set(b(1, 2), s('late')));
        }
        tx.set(b(9), s(String(rows.length)));
      });
      expect(runs).toBe(2);
      expect(text(await kv.read((tx) => tx.get(b(9))))).toBe('2');
    });

    it('snapshot reads do not conflict', async () => {
      const kv = await fresh();
      await kv.transact(async (tx) => tx.set(s('k'), s('0')));
      let runs = 0;
      let bumped = false;
      await kv.transact(async (tx) => {
        runs++;
        await tx.get(s('k'), { snapshot: true });
        await tx.getRange(s('a'), s('z'), { snapshot: true });
        if (!bumped) {
          bumped = true;
          await kv.transact(async (t2) => t2.set(s('k'), s('1')));
        }
        tx.set(s('other'), s('x'));
      });
      expect(runs).toBe(1);
    });

    it('gives up with KvConflictError after maxAttempts', async () => {
      const kv = await fresh();
      let runs = 0;
      const attempt = kv.transact(
        async (tx) => {
          runs++;
          await tx.get(s('hot'));
          await kv.transact(async (t2) => t2.set(s('hot'), s(String(runs))));
          tx.set(s('hot2'), s('x'));
        },
        { maxAttempts: 3 },
      );
      await expect(attempt).rejects.toBeInstanceOf(KvConflictError);
      expect(runs).toBe(3);
      expect(await kv.read((tx) => tx.get(s('hot2')))).toBeUndefined();
    });

    it('an error thrown by the function aborts the transaction', async () => {
      const kv = await fresh();
      await expect(
        kv.transact(async (tx) => {
          tx.set(s('k'), s('v'));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await kv.read((tx) => tx.get(s('k')))).toBeUndefined();
    });

    it('enforces key, value and transaction size limits', async () => {
      const kv = await fresh();
      const big = Buffer.alloc(KV_LIMITS.maxKeyBytes + 1, 0x61);
      await expect(kv.transact(async (tx) => tx.set(big, s('v')))).rejects.toBeInstanceOf(KvLimitError);
      await expect(
        kv.transact(async (tx) => tx.set(s('k'), Buffer.alloc(KV_LIMITS.maxValueBytes + 1))),
      ).rejects.toBeInstanceOf(KvLimitError);
      await expect(
        kv.transact(async (tx) => {
          const v = Buffer.alloc(KV_LIMITS.maxValueBytes);
          for (let i = 0; i * KV_LIMITS.maxValueBytes <= KV_LIMITS.maxTransactionBytes; i++) tx.set(s(`k${i}`), v);
        }),
      ).rejects.toBeInstanceOf(KvLimitError);
      // nothing of the refused transactions landed; the largest legal sizes work
      expect(await kv.read((tx) => tx.getRange(s('a'), s('z')))).toEqual([]);
      const longKey = Buffer.alloc(2000, 0x62);
      await kv.transact(async (tx) => tx.set(longKey, Buffer.alloc(KV_LIMITS.maxValueBytes, 7)));
      expect((await kv.read((tx) => tx.get(longKey)))!.length).toBe(KV_LIMITS.maxValueBytes);
    });

    it('returns what the committed attempt returned', async () => {
      const kv = await fresh();
      expect(await kv.transact(async (tx) => (tx.set(s('a'), s('1')), 42))).toBe(42);
      expect(await kv.read(async () => 'r')).toBe('r');
    });

    it('property: reads inside a transaction match a model of stored + buffered writes', async () => {
      const kv = await fresh();
      const key = fc.uint8Array({ minLength: 1, maxLength: 2, min: 0, max: 4 }).map((k) => Buffer.from(k));
      const op = fc.oneof(
        fc.record({ t: fc.constant('set' as const), k: key, v: fc.nat(99) }),
        fc.record({ t: fc.constant('clear' as const), k: key }),
        fc.record({ t: fc.constant('clearRange' as const), k: key, e: key }),
        fc.record({ t: fc.constant('get' as const), k: key }),
        fc.record({ t: fc.constant('range' as const), k: key, e: key, limit: fc.nat(4), reverse: fc.boolean() }),
      );
      const all = { begin: b(0), end: b(0xff) };
      await fc.assert(
        fc.asyncProperty(fc.array(key, { maxLength: 8 }), fc.array(op, { maxLength: 25 }), async (stored, ops) => {
          const model = new Map<string, string>();
          await kv.transact(async (tx) => {
            tx.clearRange(all.begin, all.end);
            for (const k of stored) {
              tx.set(k, s('s'));
              model.set(k.toString('hex'), 's');
            }
          });
          const inRange = (k: string, lo: Buffer, hi: Buffer) => {
            const kb = Buffer.from(k, 'hex');
            return Buffer.compare(kb, lo) >= 0 && Buffer.compare(kb, hi) < 0;
          };
          await kv.transact(async (tx) => {
            for (const o of ops) {
              if (o.t === 'set') {
                tx.set(o.k, s(String(o.v)));
                model.set(o.k.toString('hex'), String(o.v));
              } else if (o.t === 'clear') {
                tx.clear(o.k);
                model.delete(o.k.toString('hex'));
              } else if (o.t === 'clearRange') {
                tx.clearRange(o.k, o.e);
                for (const k of [...model.keys()]) if (inRange(k, o.k, o.e)) model.delete(k);
              } else if (o.t === 'get') {
                expect(text(await tx.get(o.k))).toBe(model.get(o.k.toString('hex')));
              } else {
                let want = [...model.keys()].filter((k) => inRange(k, o.k, o.e)).sort();
                if (o.reverse) want.reverse();
                if (o.limit) want = want.slice(0, o.limit);
                const got = await tx.getRange(o.k, o.e, { limit: o.limit, reverse: o.reverse });
                expect(hex(got)).toEqual(want);
                expect(got.map((p) => text(p.value))).toEqual(want.map((k) => model.get(k)));
              }
            }
          }, { maxAttempts: 1 });
          const after = await kv.read((tx) => tx.getRange(all.begin, all.end));
          expect(hex(after)).toEqual([...model.keys()].sort());
        }),
        { numRuns: 60 },
      );
    });

    it('persists committed data across close and reopen', async (ctx) => {
      h = await open();
      // never a silent pass: a backend that cannot reopen shows this test as skipped, saying why
      if (!h.reopen) return ctx.skip(`${name}: the backend handle has no reopen(), so persistence cannot be checked`);
      await seed(h.kv, [b(1), b(2)]);
      await h.kv.transact(async (tx) => tx.clear(b(1)));
      const kv2 = await h.reopen();
      expect(hex(await kv2.read((tx) => tx.getRange(b(0), b(9))))).toEqual(['02']);
    });
  });
}
