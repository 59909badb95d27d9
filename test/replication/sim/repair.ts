/**
 * Repair and tombstone collection in the simulation, with the real code (replication/repair/):
 *
 * - `loseMessages`: a fault that acknowledges a region's outbox entries for one destination
 *   without sending them — those changes will never travel; only a repair brings them.
 * - `collectLoop`: a region's process runs collection rounds while clients write and faults
 *   happen: its own low-water marks and those of every region it can reach right now (read
 *   at once: the freshest possible exchange is the harshest test of the horizon), then
 *   collectTombstones under the horizon. A region down or cut off answers nothing, and then
 *   nothing is collected.
 * - `finalRepair` / `finalCollect`: once the run is quiet, a pass between every pair of
 *   regions, then a collection everywhere well after the last write: every tombstone must go.
 *
 * A run either loses messages or collects while it runs, never both: a lost message's change
 * is below the horizon as soon as its entry is acknowledged, so a repair could no longer bring
 * it (the grace period, --tombstone-grace, is what keeps that window open in production).
 */
import type { Change } from '../../../metadata/changes.js';
import { stampOf } from '../../../metadata/changes.js';
import { parseVersionId } from '../../../metadata/version-id.js';
import { countTombstones } from '../../../metadata/tombstone-collect.js';
import { applyChanges, NotReadyError } from '../../../replication/apply.js';
import { changesFor } from '../../../replication/repair/changes-for.js';
import { collectRound, lowWaterMarks } from '../../../replication/repair/horizon.js';
import { localHello, repairWith, type RepairPeer } from '../../../replication/repair/pass.js';
import { KvIndexSide } from '../../../replication/repair/version-index.js';
import type { Process, Region } from './region.js';
import { REGIONS, type World } from './world.js';

/** the margin for transactions under way (a simulated one takes no time) */
const INFLIGHT_MS = 20;

async function applyQuietly(region: Region, changes: Change[]): Promise<void> {
  try {
    await applyChanges(region.kv, changes, region.proc ? { observe: (h) => region.proc!.clock.update(h) } : {});
  } catch (err) {
    if (!(err instanceof NotReadyError)) throw err;
  }
}

function directPeer(region: Region): RepairPeer {
  return {
    region: region.name,
    hello: (bucket) => localHello(region.kv, region.name, bucket),
    side: (scope) => new KvIndexSide(region.kv, scope, 7),
    changes: (bucket, space, keys) => changesFor(region.kv, region.name, bucket, space, keys),
    apply: (changes) => applyQuietly(region, changes),
  };
}

export async function loseMessages(w: World, r: string): Promise<void> {
  const region = w.regions.get(r)!;
  const dest = w.rng.pick(region.peers);
  const ids = await region.outbox.pendingIds(dest, undefined, 1000);
  await region.outbox.ack(dest, ids);
  w.log(`fault: ${r}'s ${ids.length} message(s) to ${dest} are lost (acknowledged unsent)`);
}

/** a change committed earlier arrives again at a region other than its writer's */
export async function replayOld(w: World): Promise<void> {
  if (w.history.length === 0) return;
  const c = w.rng.pick(w.history);
  const origin = parseVersionId(stampOf(c))?.region;
  const to = w.rng.pick(REGIONS.filter((r) => r !== origin));
  const region = w.regions.get(to)!;
  if (!region.up) return;
  w.log(`late copy of ${c.kind} ${stampOf(c).slice(0, 20)}… arrives at ${to}`);
  await region.receive([c]).catch((err: Error) => w.log(`${to}: late copy not applied: ${err.message}`));
}

const marksOf = (region: Region, at: number) => lowWaterMarks(region.outbox, region.peers, at, INFLIGHT_MS);

export async function collectLoop(w: World, region: Region, proc: Process, everyMs: number, graceMs: number): Promise<void> {
  for (;;) {
    await w.sched.sleep(everyMs);
    if (!proc.alive) return;
    const round = await collectRound({
      kv: region.kv,
      self: region.name,
      regions: REGIONS,
      own: () => marksOf(region, region.wall()),
      ask: async (name) => {
        const peer = w.regions.get(name)!;
        return peer.up && !w.net.isCut(region.name, name) ? marksOf(peer, peer.wall()) : undefined;
      },
      graceMs,
    });
    const c = round.collected;
    if (c && c.tombstones + c.nullMarks > 0) w.log(`${region.name} collects ${c.tombstones} tombstone(s), ${c.nullMarks} null mark(s) under ${c.horizon}`);
  }
}

export async function finalRepair(w: World): Promise<void> {
  const all = [...w.regions.values()];
  for (const a of all) {
    for (const b of all) {
      if (a === b) continue;
      const rep = await repairWith({ region: a.name, kv: a.kv, apply: (c) => applyQuietly(a, c) }, directPeer(b), { walk: { fanout: 3, leafSize: 2 }, now: () => w.sched.now });
      if (rep.fetched + rep.sent > 0) w.log(`repair ${a.name}⇄${b.name}: fetched ${rep.fetched}, sent ${rep.sent} (changes ${rep.changesFetched}/${rep.changesSent})`);
    }
  }
}

/** a collection in every region, `laterMs` after the end of the run (past every clock's lead) */
export async function finalCollect(w: World, laterMs: number): Promise<string[]> {
  const problems: string[] = [];
  for (const region of w.regions.values()) {
    const round = await collectRound({
      kv: region.kv,
      self: region.name,
      regions: REGIONS,
      own: () => marksOf(region, region.wall() + laterMs),
      ask: async (name) => marksOf(w.regions.get(name)!, w.regions.get(name)!.wall() + laterMs),
      graceMs: 0,
    });
    if (!round.collected) problems.push(`${region.name}: no final collection (${round.missing.join(', ')} missing)`);
    const left = await countTombstones(region.kv);
    if (left.tombstones + left.erasedMarks > 0) problems.push(`${region.name}: ${left.tombstones} tombstone(s) and ${left.erasedMarks} null mark(s) naming nothing remain after the final collection`);
  }
  return problems;
}
