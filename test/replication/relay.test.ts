/**
 * The relay over a real outbox (in-memory store): one bounded page per destination and
 * pass, walking oldest to newest and wrapping around; an entry still pending resendAfterMs
 * after it was enqueued is enqueued again (the queue may have lost it); a queue that refuses
 * leaves the walk where it was, so nothing is skipped.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { Change, OutboxEntry } from '../../metadata/changes.js';
import { Outbox, outboxSink } from '../../metadata/outbox.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { Relay, type RelayOptions } from '../../replication/relay.js';
import { MemoryKv } from '../helpers/memory-kv.js';

let kv: MemoryKv;
let outbox: Outbox;
let now: number;
/** what the relay enqueued, per pass: "dest:key" */
let added: string[];
let refuse: Set<string>;

const queue = {
  async add(dest: string, entries: OutboxEntry[]) {
    if (refuse.has(dest)) throw new Error(`queue for ${dest} is down`);
    for (const e of entries) added.push(`${dest}:${(e.change as Extract<Change, { kind: 'purge' }>).key}`);
  },
};

function relay(opts: Partial<RelayOptions> = {}): Relay {
  return new Relay({ dests: ['fra'], outbox, queue, now: () => now, resendAfterMs: 1000, pageSize: 10, ...opts });
}

async function write(keys: string[], wall = 1, dests = ['fra']): Promise<void> {
  const sink = outboxSink(dests, () => now);
  await kv.transact(async (tx) => {
    for (const [i, key] of keys.entries()) {
      sink(tx, { kind: 'purge', bucketCreatedAt: 1, bucket: 'b', key, versionId: makeVersionId({ wall: 1, logical: 0 }, 'iad', null), stamp: makeVersionId({ wall, logical: i }, 'iad', null) });
    }
  });
}

async function pass(r: Relay): Promise<string[]> {
  added = [];
  await r.pass();
  return added;
}

async function ack(dest: string, ...keys: string[]): Promise<void> {
  const page = await outbox.pending(dest, undefined, 100);
  await outbox.ack(dest, page.filter((e) => keys.includes((e.change as Extract<Change, { kind: 'purge' }>).key)).map((e) => e.id));
}

beforeEach(() => {
  kv = new MemoryKv();
  outbox = new Outbox(kv);
  now = 10_000;
  added = [];
  refuse = new Set();
});

describe('the relay', () => {
  it('enqueues each pending entry once, and again only when it is still pending resendAfterMs later', async () => {
    const r = relay();
    await write(['a', 'b']);
    expect(await pass(r)).toEqual(['fra:a', 'fra:b']);
    now += 999;
    expect(await pass(r)).toEqual([]);
    await ack('fra', 'a');
    now += 1;
    // the queue may have lost b (Redis restarted empty): it goes again; a, applied, does not
    expect(await pass(r)).toEqual(['fra:b']);
    expect(await pass(r)).toEqual([]);
  });

  it('reads one page per pass, oldest first, and wraps around to the oldest', async () => {
    const r = relay({ pageSize: 2, resendAfterMs: 0 });
    await write(['a', 'b', 'c', 'd', 'e']);
    expect(await pass(r)).toEqual(['fra:a', 'fra:b']);
    expect(await pass(r)).toEqual(['fra:c', 'fra:d']);
    expect(await pass(r)).toEqual(['fra:e']);
    await ack('fra', 'a', 'c');
    expect(await pass(r)).toEqual(['fra:b', 'fra:d']);
    expect(await pass(r)).toEqual(['fra:e']);
  });

  it('meets, after wrapping, an entry committed behind its position', async () => {
    const r = relay({ pageSize: 2 });
    await write(['m', 'n', 'o'], 50);
    expect(await pass(r)).toEqual(['fra:m', 'fra:n']);
    // an older id than the walk's position (a process restarted with its clock behind)
    await write(['early'], 10);
    expect(await pass(r)).toEqual(['fra:o']);
    expect(await pass(r)).toEqual(['fra:early']);
  });

  it('a queue that refuses leaves the walk where it was: the same entries go once it answers', async () => {
    const r = relay({ dests: ['fra', 'sin'], pageSize: 2 });
    await write(['a', 'b', 'c'], 1, ['fra', 'sin']);
    refuse.add('fra');
    added = [];
    await expect(r.pass()).rejects.toThrow('queue for fra is down');
    // one region's queue failing does not hold up another's
    expect(added).toEqual(['sin:a', 'sin:b']);
    added = [];
    await expect(r.pass()).rejects.toThrow('queue for fra is down');
    expect(added).toEqual(['sin:c']);
    refuse.clear();
    expect(await pass(r)).toEqual(['fra:a', 'fra:b']);
    expect(await pass(r)).toEqual(['fra:c']);
  });

  it('an empty outbox enqueues nothing', async () => {
    expect(await pass(relay())).toEqual([]);
  });
});

describe('the relay delivering directly', () => {
  /** direct deliveries under way, in order; each settles when the test says */
  let calls: { dest: string; keys: string[]; ok: () => void; fail: (err: Error) => void }[];
  let settled: { dest: string; err?: string; again: boolean }[];
  let onSettle: (() => void) | undefined;

  const keyOf = (e: OutboxEntry) => (e.change as Extract<Change, { kind: 'purge' }>).key;
  const port = {
    deliver: (dest: string, entries: OutboxEntry[]) =>
      new Promise<void>((ok, fail) => calls.push({ dest, keys: entries.map(keyOf), ok, fail })),
  };
  function direct(opts: Partial<RelayOptions['direct']> = {}): Relay {
    return relay({
      direct: {
        port,
        maxInFlight: 1,
        holdMs: 100,
        coolMs: 500,
        onSettled: (dest, err, again) => {
          settled.push({ dest, err: err?.message, again });
          onSettle?.();
        },
        ...opts,
      },
    });
  }
  /** settles delivery `i` and waits until the relay has dealt with it */
  async function settle(i: number, err?: Error & { status?: number }): Promise<void> {
    const done = new Promise<void>((r) => (onSettle = r));
    if (err) calls[i]!.fail(err);
    else calls[i]!.ok();
    await done;
  }

  beforeEach(() => {
    calls = [];
    settled = [];
  });

  it('hands new entries to the direct path, not to the queue; an entry it delivered is never enqueued', async () => {
    const r = direct();
    await write(['a', 'b']);
    expect(await pass(r)).toEqual([]);
    expect(calls.map((c) => c.keys)).toEqual([['a', 'b']]);
    await ack('fra', 'a', 'b');
    await settle(0);
    expect(settled).toEqual([{ dest: 'fra', err: undefined, again: false }]);
    now += 5000;
    expect(await pass(r)).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  it('what a failed delivery carried goes into the queue at once, and the destination gets none directly while it cools off', async () => {
    const r = direct();
    await write(['a']);
    await pass(r);
    await settle(0, new Error('fra could not be reached'));
    expect(added).toEqual(['fra:a']);
    expect(settled).toEqual([{ dest: 'fra', err: 'fra could not be reached', again: false }]);
    await write(['b'], 2);
    now += 499;
    // cooling off: b goes into the queue; a, enqueued a moment ago, does not go again
    expect(await pass(r)).toEqual(['fra:b']);
    now += 1;
    await write(['c'], 3);
    expect(await pass(r)).toEqual([]);
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['c']]);
    // a second failure in a row cools off twice as long
    await settle(1, new Error('still unreachable'));
    await ack('fra', 'a', 'b', 'c');
    await write(['d'], 4);
    now += 999;
    expect(await pass(r)).toEqual(['fra:d']);
    now += 1;
    await write(['e'], 5);
    expect(await pass(r)).toEqual([]);
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['c'], ['e']]);
  });

  it('a job delivered to the destination ends its cooling off: new entries go directly again', async () => {
    const r = direct();
    await write(['a']);
    await pass(r);
    await settle(0, new Error('fra could not be reached'));
    await write(['b'], 2);
    expect(await pass(r)).toEqual(['fra:b']);
    r.reopen('fra');
    await write(['c'], 3);
    expect(await pass(r)).toEqual([]);
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['c']]);
  });

  it('a delivery refused as not ready (409) sends its entries to the queue without cooling off the destination', async () => {
    const r = direct();
    await write(['a']);
    await pass(r);
    await settle(0, Object.assign(new Error('409: not ready'), { status: 409 }));
    expect(added).toEqual(['fra:a']);
    await write(['b'], 2);
    expect(await pass(r)).toEqual([]);
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
  });

  it('while deliveries are busy new entries wait: for the next free one, or the queue after holdMs', async () => {
    const r = direct();
    await write(['a']);
    await pass(r);
    await write(['b'], 2);
    expect(await pass(r)).toEqual([]);
    await ack('fra', 'a');
    await settle(0);
    // b waits for a pass: the relay says so
    expect(settled.at(-1)).toEqual({ dest: 'fra', err: undefined, again: true });
    await pass(r);
    expect(calls.map((c) => c.keys)).toEqual([['a'], ['b']]);
    await write(['c'], 3);
    expect(await pass(r)).toEqual([]);
    now += 100;
    expect(await pass(r)).toEqual(['fra:c']);
    expect(calls).toHaveLength(2);
  });

  it('a failed delivery whose entries the queue refused leaves them to the next pass', async () => {
    const r = direct();
    await write(['a']);
    await pass(r);
    refuse.add('fra');
    await settle(0, new Error('fra could not be reached'));
    expect(settled.at(-1)).toEqual({ dest: 'fra', err: 'fra could not be reached', again: true });
    await expect(r.pass()).rejects.toThrow('queue for fra is down');
    refuse.clear();
    expect(await pass(r)).toEqual(['fra:a']);
  });

  it('an entry delivered directly but still pending resendAfterMs later (its acknowledgement lost) is enqueued', async () => {
    const r = direct();
    await write(['a']);
    await pass(r);
    await settle(0);
    now += 999;
    expect(await pass(r)).toEqual([]);
    now += 1;
    expect(await pass(r)).toEqual(['fra:a']);
  });
});
