/**
 * One seeded run of the simulation: three regions take client writes at random moments
 * while the network drops, duplicates, delays and reorders, regions are cut off and healed,
 * processes crash and restart, and Redis dies or restarts empty. Then the faults stop, the
 * network heals, and the run goes on until every outbox is empty. Then:
 *
 * - every outbox is empty (no entry, no pending mark) and every region holds the same object
 *   records, byte for byte;
 * - that state is the merge (model.ts) of the changes of every COMMITTED write. A write is
 *   committed when its metadata transaction committed; its region then answered it (the
 *   write is acknowledged) unless the answer was lost on the way back (committed, not
 *   acknowledged). Both kinds must be there: the outbox entry committed with the write, so
 *   a committed write can never be dropped, whether or not its client heard back — and so
 *   nothing acknowledged is lost. A write refused (its region down) or failed (NoSuchKey on
 *   a tag change) committed nothing, and no trace of it may appear: nothing is invented.
 */
import { encodeBucket } from '../../../metadata/records.js';
import type { Change } from '../../../metadata/changes.js';
import { kBucket } from '../../../metadata/version-store.js';
import { subspaceRange } from '../../../metadata/tuple.js';
import type { BucketRecord } from '../../../metadata/types.js';
import { expectedView } from './model.js';
import { Network } from './network.js';
import { EPOCH_MS, Region, type Cluster, type RegionOptions } from './region.js';
import { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';
import { dump, view } from './view.js';
import type { Intent } from './shim.js';

export const REGIONS = ['iad', 'fra', 'sin'];
const BUCKETS: Pick<BucketRecord, 'name' | 'versioning'>[] = [
  { name: 'ver', versioning: 'Enabled' },
  { name: 'unv', versioning: 'Unversioned' },
];
const KEYS = ['a', 'b', 'c'];
const CREATED = EPOCH_MS - 60_000;
/** faults and writes happen in [0, FAULT_MS); afterwards the network is healthy */
const FAULT_MS = 1_500;
/** simulated time allowed to converge after the faults stop */
const SETTLE_MS = 60_000;

export interface WriteRecord {
  n: number;
  at: number;
  region: string;
  what: string;
  outcome: 'acknowledged' | 'committed, answer lost' | 'refused: region down' | 'failed';
  changes: Change[];
}

export interface SimResult {
  seed: number;
  problems: string[];
  trace: string[];
  writes: WriteRecord[];
  /** simulated ms from the end of the faults to quiescence */
  settleMs: number;
  /** events the scheduler ran */
  events: number;
}

export async function runSeed(seed: number): Promise<SimResult> {
  const rng = new Rng(seed);
  const sched = new Scheduler();
  const trace: string[] = [];
  const log = (line: string) => void trace.push(`${String(sched.now).padStart(6)} ${line}`);
  const net = new Network(sched, rng, log, { drop: rng.float() * 0.3, dup: rng.float() * 0.2, maxDelay: rng.int(2, 120) });
  const regions = new Map<string, Region>();
  const cluster: Cluster = { sched, net, region: (n) => regions.get(n)!, trace: log };
  const opts: RegionOptions = {
    relayEveryMs: rng.int(20, 100),
    resendAfterMs: rng.int(100, 600),
    pageSize: rng.int(1, 6),
    sendTimeoutMs: 300,
    queue: { concurrency: rng.int(1, 2), batch: rng.int(1, 4), attempts: rng.int(1, 4), backoffMs: 30, maxBackoffMs: 400 },
  };
  // one key makes every write a conflict; three spread them
  const keys = KEYS.slice(0, rng.pick([1, 1, 2, 3]));
  // wall clocks disagree by a few ms, tens of ms, or most of a second (a restarted process then
  // starts well behind the time its region had reached)
  const skew = rng.pick([5, 50, 800, 800]);
  for (const name of REGIONS) {
    const r = new Region(name, REGIONS.filter((x) => x !== name), rng.int(-skew, skew), cluster, opts);
    regions.set(name, r);
    await r.kv.transact(async (tx) => {
      for (const b of BUCKETS) tx.set(kBucket(b.name), encodeBucket({ ...b, owner: 'AK1', createdAt: CREATED, region: 'iad', acl: 'private' }));
    });
    r.start();
  }
  log(`seed ${seed}: ${JSON.stringify({ net: net.faults, ...opts })}`);

  const writes: WriteRecord[] = [];
  /** every version id a write made, by bucket/key */
  const ids = new Map<string, string[]>();
  const idsOf = (bucket: string, key: string) => ids.get(`${bucket}/${key}`) ?? [];
  const nWrites = rng.int(5, 30);
  for (let n = 0; n < nWrites; n++) sched.after(rng.int(0, FAULT_MS - 1), () => void write(n));
  const nFaults = rng.int(0, 8);
  for (let i = 0; i < nFaults; i++) sched.after(rng.int(0, FAULT_MS - 1), fault);
  let healed = false;
  sched.after(FAULT_MS, heal);

  async function write(n: number): Promise<void> {
    const r = rng.pick(REGIONS);
    const region = regions.get(r)!;
    const bucket = rng.pick(BUCKETS);
    const key = rng.pick(keys);
    const kind = rng.float();
    const rec: WriteRecord = { n, at: sched.now, region: r, what: '', outcome: 'failed', changes: [] };
    writes.push(rec);
    const proc = region.proc;
    let intent: Intent;
    let run: () => Promise<unknown>;
    if (kind < 0.45) {
      const text = `w${n}`;
      const tags = rng.chance(0.2) ? { t: `put${n}` } : undefined;
      rec.what = `PUT ${bucket.name}/${key} ${text}${tags ? ' tagged' : ''}`;
      intent = 'put';
      run = () => proc!.layer.putObject({ bucket: bucket.name, key, size: text.length, etag: `e${n}`, owner: 'AK1', headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'inline', data: Buffer.from(text) }, ...(tags ? { tags } : {}) });
    } else if (kind < 0.65) {
      rec.what = `DELETE ${bucket.name}/${key}`;
      intent = 'delete';
      run = () => proc!.layer.deleteObject(bucket.name, key);
    } else if (kind < 0.8 && bucket.versioning === 'Enabled') {
      // a version this region holds, or one written anywhere (maybe not here yet)
      const mine = proc ? (await proc.layer.listObjectVersions({ bucket: bucket.name, prefix: key, maxKeys: 50 })).versions.filter((v) => v.version.key === key) : [];
      const anywhere = idsOf(bucket.name, key);
      const vid = mine.length > 0 && (anywhere.length === 0 || rng.chance(0.7)) ? rng.pick(mine).version.versionId : anywhere.length > 0 ? rng.pick(anywhere) : 'none';
      rec.what = `DELETE ${bucket.name}/${key}?versionId=${vid.slice(0, 20)}…`;
      intent = 'delete-version';
      run = () => proc!.layer.deleteObject(bucket.name, key, vid);
    } else {
      const anywhere = idsOf(bucket.name, key);
      const versionId = bucket.versioning === 'Enabled' && anywhere.length > 0 && rng.chance(0.3) ? rng.pick(anywhere) : undefined;
      rec.what = `PUT ${bucket.name}/${key}?tagging${versionId ? ' of a version' : ''} t=tag${n}`;
      intent = 'tags';
      run = () => proc!.layer.setObjectTags(bucket.name, key, versionId, { t: `tag${n}` });
    }
    if (!proc) {
      rec.outcome = 'refused: region down';
    } else {
      proc.shim.intent = intent;
      const got = await region.capture.around(run);
      rec.changes = got.changes;
      for (const c of got.changes) if (c.kind === 'version') ids.set(`${c.version.bucket}/${c.version.key}`, [...idsOf(c.version.bucket, c.version.key), c.version.versionId]);
      if (got.error !== undefined) rec.outcome = 'failed';
      else rec.outcome = rng.chance(0.1) ? 'committed, answer lost' : 'acknowledged';
      if (got.error !== undefined && got.changes.length > 0) rec.outcome = 'committed, answer lost';
      if (got.changes.length > 0) region.kick();
    }
    log(`${r} client #${n} ${rec.what}: ${rec.outcome}${rec.changes.length ? ' → ' + rec.changes.map(describe).join(', ') : ''}`);
  }

  function fault(): void {
    if (healed) return;
    const kind = rng.int(0, 5);
    const r = rng.pick(REGIONS);
    const region = regions.get(r)!;
    const until = rng.int(10, 700);
    if (kind === 0) {
      const other = rng.pick(REGIONS.filter((x) => x !== r));
      log(`fault: ${r} and ${other} cut off from each other for ${until} ms`);
      net.partition(r, other);
      sched.after(until, () => net.heal(r, other));
    } else if (kind === 1) {
      log(`fault: ${r} cut off from every region for ${until} ms`);
      for (const o of REGIONS) if (o !== r) net.partition(r, o);
      sched.after(until, () => REGIONS.forEach((o) => o !== r && net.heal(r, o)));
    } else if (kind === 2 || kind === 5) {
      // down for a while, or a process restarted at once
      if (!region.up) return;
      const down = kind === 2 ? until : rng.int(1, 10);
      log(`fault: ${r} crashes for ${down} ms`);
      region.crash();
      sched.after(down, () => restart(region));
    } else if (kind === 3) {
      if (!region.proc) return;
      log(`fault: ${r}'s Redis restarts empty`);
      region.proc.redis.flush();
    } else {
      const redis = region.proc?.redis;
      if (!redis) return;
      log(`fault: ${r}'s Redis down for ${until} ms`);
      redis.down = true;
      sched.after(until, () => redis.up());
    }
  }

  function restart(region: Region): void {
    if (region.up) return;
    log(`${region.name} starts`);
    region.start();
  }

  function heal(): void {
    healed = true;
    log('faults stop: the network heals, every region runs');
    net.faults = { ...net.faults, drop: 0, dup: 0 };
    net.heal();
    for (const r of regions.values()) {
      restart(r);
      r.proc!.redis.up();
    }
  }

  // quiescence: every outbox empty, checked every 50 ms once the faults are over
  let quiet = false;
  const check = async () => {
    if (healed) {
      quiet = true;
      for (const r of regions.values()) for (const d of r.peers) if ((await r.outbox.depth(d)).count > 0) quiet = false;
    }
    if (!quiet) sched.after(50, () => void check());
  };
  sched.after(50, () => void check());
  const problems: string[] = [];
  const converged = await sched.run(FAULT_MS + SETTLE_MS, () => quiet);
  const settleMs = sched.now - FAULT_MS;
  if (!converged) problems.push(`no quiescence ${SETTLE_MS} ms after the faults stopped: ${await backlog(regions)}`);
  // stop every process, then let what is still on the wire (late duplicates) arrive
  for (const r of regions.values()) if (r.proc) r.proc.alive = false;
  await sched.run(Infinity);
  for (const r of regions.values()) if (r.proc) r.proc.alive = true;

  problems.push(...(await check0(regions, writes)));
  return { seed, problems, trace, writes, settleMs, events: sched.events };
}

async function backlog(regions: Map<string, Region>): Promise<string> {
  const parts: string[] = [];
  for (const r of regions.values()) for (const d of r.peers) parts.push(`${r.name}→${d} ${(await r.outbox.depth(d)).count}`);
  return parts.join(', ');
}

async function check0(regions: Map<string, Region>, writes: WriteRecord[]): Promise<string[]> {
  const problems: string[] = [];
  const committed = writes.filter((w) => w.changes.length > 0).flatMap((w) => w.changes);
  const [first, ...rest] = [...regions.values()];
  for (const r of regions.values()) {
    const left = await r.kv.read(async (tx) => {
      let n = 0;
      for (const space of ['ob', 'obp']) n += (await tx.getRange(subspaceRange([space]).begin, subspaceRange([space]).end, { limit: 1 })).length;
      return n;
    });
    if (left > 0) problems.push(`${r.name}: the outbox still holds entries`);
  }
  for (const b of BUCKETS) {
    const want = expectedView(committed, b.name);
    for (const r of regions.values()) {
      const got = await view(r.kv, b.name);
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${r.name}/${b.name} differs from the merge of the committed writes:\n${diff(want, got)}`);
    }
    const base = await dump(first!.kv, b.name);
    for (const r of rest) {
      if (JSON.stringify(await dump(r.kv, b.name)) !== JSON.stringify(base)) problems.push(`${r.name}/${b.name}: records differ from ${first!.name}'s byte for byte`);
    }
  }
  return problems;
}

function diff(want: string[], got: string[]): string {
  const w = new Set(want);
  const g = new Set(got);
  return [...want.filter((l) => !g.has(l)).map((l) => `  - expected: ${l}`), ...got.filter((l) => !w.has(l)).map((l) => `  + found:    ${l}`)].join('\n') || '  (same lines, other order)';
}

function describe(c: Change): string {
  const id = (s: string) => s.slice(0, 20) + '…' + s.slice(20);
  if (c.kind === 'version') return `${c.erase ? 'erase' : c.version.deleteMarker ? 'marker' : 'version'} ${id(c.version.versionId)}`;
  if (c.kind === 'purge') return `purge ${id(c.versionId)}`;
  if (c.kind === 'version-register') return `tags ${id(c.versionId)} @${id(c.stamp)}`;
  return c.kind;
}
