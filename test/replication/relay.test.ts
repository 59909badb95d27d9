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
