/**
 * One seeded run of the simulation: three regions take client writes at random moments
 * while the network drops, duplicates, delays and reorders, regions are cut off and healed,
 * processes crash and restart, and Redis dies or restarts empty (faults.ts). Then the faults
 * stop, the network heals, and the run goes on until every outbox is empty. Then
 * (checks.ts):
 *
 * - every outbox is empty (no entry, no pending mark) and every region holds the same object
 *   records, byte for byte;
 * Each seed runs in one of three modes (repair.ts): replication alone; with faults that lose
 * messages for good (their outbox entries acknowledged unsent), repaired by anti-entropy passes
 * between every pair of regions once the run is quiet; or with every region collecting
 * tombstones as it runs. In every mode, late copies of changes committed earlier arrive again
 * at random moments, and at the end a repair pass and a collection well after the last write
 * run everywhere: no tombstone may remain, and no collected version may have come back.
 *
 * - that state is the merge (model.ts) of the changes of every COMMITTED write. A write is
 *   committed when its metadata transaction committed; its region then answered it (the
 *   write is acknowledged) unless the answer was lost on the way back (committed, not
 *   acknowledged). Both kinds must be there: the outbox entry committed with the write, so
 *   a committed write can never be dropped, whether or not its client heard back — and so
 *   nothing acknowledged is lost. A write refused (its region down) or failed (NoSuchKey on
 *   a tag change) committed nothing, and no trace of it may appear: nothing is invented.
 */
import { encodeBucket } from '../../../metadata/records.js';
import { kBucket } from '../../../metadata/version-store.js';
import { checkConverged } from './checks.js';
import { heal, injectFault } from './faults.js';
import { Network } from './network.js';
import { collectLoop, finalCollect, finalRepair, replayOld } from './repair.js';
import { EPOCH_MS, Region, type Cluster, type RegionOptions } from './region.js';
import { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';
import { Workload, type WriteRecord } from './workload.js';
import { BUCKETS, REGIONS, type World } from './world.js';

const KEYS = ['a', 'b', 'c'];
const CREATED = EPOCH_MS - 60_000;
/** faults and writes happen in [0, FAULT_MS); afterwards the network is healthy */
const FAULT_MS = 1_500;
/** simulated time allowed to converge after the faults stop (runs settle within ~1.5 s) */
const SETTLE_MS = 20_000;

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
  const w: World = { mode: 'plain', history: [], rng, sched, net, regions: new Map(), log };
  const cluster: Cluster = { sched, net, region: (n) => w.regions.get(n)!, trace: log };
  const opts: RegionOptions = {
    relayEveryMs: rng.int(40, 160),
    resendAfterMs: rng.int(100, 600),
    pageSize: rng.int(1, 6),
    sendTimeoutMs: 300,
    queue: { concurrency: rng.int(1, 2), batch: rng.int(1, 4), attempts: rng.int(1, 4), backoffMs: 30, maxBackoffMs: 400 },
    // the relay delivering new entries itself, as gateways do, or (a quarter of the seeds) everything through the queue
    direct: rng.pick([true, true, true, false]) ? { maxInFlight: rng.int(1, 3), holdMs: rng.int(0, 200), coolMs: rng.int(20, 300) } : undefined,
  };
  w.mode = rng.pick(['plain', 'lose', 'collect'] as const);
  const collectEvery = rng.int(20, 300);
  const graceMs = rng.pick([0, 0, 50, 500]);
  if (w.mode === 'collect') opts.onStart = (region, proc) => void collectLoop(w, region, proc, collectEvery, graceMs);
  // one key makes every write a conflict; three spread them
  const keys = KEYS.slice(0, rng.pick([1, 1, 2, 3]));
  // wall clocks disagree by a few ms, tens of ms, or most of a second (a restarted process then
  // starts well behind the time its region had reached)
  const skew = rng.pick([5, 50, 800, 800]);
  for (const name of REGIONS) {
    const r = new Region(name, REGIONS.filter((x) => x !== name), rng.int(-skew, skew), cluster, opts);
    w.regions.set(name, r);
    await r.kv.transact(async (tx) => {
      for (const b of BUCKETS) tx.set(kBucket(b.name), encodeBucket({ ...b, owner: 'AK1', createdAt: CREATED, region: 'iad', acl: 'private' }));
    });
    r.start();
  }
  log(`seed ${seed}: ${JSON.stringify({ mode: w.mode, ...(w.mode === 'collect' ? { collectEvery, graceMs } : {}), net: net.faults, keys: keys.length, skew, ...opts })}`);

  const workload = new Workload(w, keys);
  const nWrites = rng.int(5, 30);
  for (let n = 0; n < nWrites; n++) sched.after(rng.int(0, FAULT_MS - 1), () => void workload.write(n));
  // late copies: a change committed earlier arrives again (a delayed duplicate, a retry), during
  // the faults and while the run settles — after tombstones may have been collected
  const nReplays = rng.int(0, 12);
  for (let i = 0; i < nReplays; i++) sched.after(rng.int(0, FAULT_MS + 1500), () => void replayOld(w));
  const nFaults = rng.int(0, 8);
  let healed = false;
  for (let i = 0; i < nFaults; i++) sched.after(rng.int(0, FAULT_MS - 1), () => healed || injectFault(w));
  sched.after(FAULT_MS, () => {
    healed = true;
    heal(w);
  });

  // quiescence: every outbox empty, checked every 50 ms once the faults are over
  let quiet = false;
  let over = false;
  const check = async () => {
    if (healed) {
      quiet = true;
      for (const r of w.regions.values()) for (const d of r.peers) if ((await r.outbox.depth(d)).count > 0) quiet = false;
    }
    if (!quiet && !over) sched.after(100, () => void check());
  };
  sched.after(50, () => void check());
  const problems: string[] = [];
  const converged = await sched.run(FAULT_MS + SETTLE_MS, () => quiet);
  const settleMs = sched.now - FAULT_MS;
  if (!converged) problems.push(`no quiescence ${SETTLE_MS} ms after the faults stopped: ${await backlog(w)}`);
  // stop every process, then let what is still on the wire (late duplicates) arrive
  over = true;
  for (const r of w.regions.values()) if (r.proc) r.proc.alive = false;
  await sched.run(Infinity);

  // what lost messages left out is repaired; then every tombstone is collected, everywhere
  await finalRepair(w);
  problems.push(...(await finalCollect(w, 10_000)));
  problems.push(...(await checkConverged([...w.regions.values()], workload.writes)));
  return { seed, problems, trace, writes: workload.writes, settleMs, events: sched.events };
}

async function backlog(w: World): Promise<string> {
  const parts: string[] = [];
  for (const r of w.regions.values()) for (const d of r.peers) parts.push(`${r.name}→${d} ${(await r.outbox.depth(d)).count}`);
  return 'outbox depths ' + parts.join(', ');
}
