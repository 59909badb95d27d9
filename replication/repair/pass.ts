/**
 * One anti-entropy pass between this region and one peer: the bucket records and gone markers
 * first (so a bucket one side lacks, or holds in an older incarnation, is created or deleted
 * there), the access keys, and for every
 * bucket both hold (the same incarnation) each index of its versions and its settings'
 * stamps (version-index.ts), are compared by the
 * range-hash walk; what the peer lacks is sent to it as changes, what this region lacks is
 * fetched from the peer as changes and applied here — both through the ordinary, idempotent
 * apply path. The peer is a port (RepairPeer): HTTP in production (http-repair-peer.ts), a
 * direct call in tests and the simulation.
 */
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { decodeBucket } from '../../metadata/records.js';
import { readHorizon } from '../../metadata/tombstone-horizon.js';
import { keyAfter, subspaceRange } from '../../metadata/tuple.js';
import { NotReadyError } from '../apply.js';
import { changesFor } from './changes-for.js';
import { DEFAULT_WALK, walk, type IndexSide, type WalkOptions } from './range-tree.js';
import { BUCKET_SPACES, KvIndexSide, NAME_SPACES, rootRange, type IndexScope, type IndexSpace } from './version-index.js';

export interface BucketIncarnation {
  name: string;
  createdAt: number;
}

/** what a region says about itself at the start of a pass */
export interface RepairHello {
  region: string;
  buckets: BucketIncarnation[];
  /** its tombstone horizon (wall ms; 0: none yet) */
  horizonMs: number;
}

/** the peer, as a pass sees it */
export interface RepairPeer {
  readonly region: string;
  hello(bucket?: string): Promise<RepairHello>;
  side(scope: IndexScope): IndexSide;
  /** the changes that carry these entries of the peer's index */
  changes(bucket: string, space: IndexSpace, keys: string[]): Promise<Change[]>;
  /** applies changes at the peer (its apply endpoint) */
  apply(changes: Change[]): Promise<void>;
}

export interface LocalRegion {
  region: string;
  kv: KvStore;
  /** applies changes here (replication/apply.ts applyChanges, with the region's clock) */
  apply(changes: Change[]): Promise<void>;
}

export interface RepairReport {
  peer: string;
  buckets: number;
  /** entries compared here and there (summed over the indexes) */
  entriesHere: number;
  entriesThere: number;
  ranges: number;
  leaves: number;
  /** entries this region lacked (fetched from the peer) and the peer lacked (sent to it) */
  fetched: number;
  sent: number;
  /** changes applied each way */
  changesFetched: number;
  changesSent: number;
  ms: number;
  /** buckets one side holds in another incarnation or not at all (bucket changes settle those) */
  skipped: string[];
  /** changes that could not be applied yet (their bucket has not arrived) */
  waiting: number;
}

/** changes applied per call */
const APPLY_BATCH = 50;

/** the buckets a region holds (all, or the one named), a page per read transaction */
export async function localHello(kv: KvStore, region: string, bucket?: string): Promise<RepairHello> {
  const buckets: BucketIncarnation[] = [];
  const r = subspaceRange(['b']);
  let begin = r.begin;
  for (;;) {
    const rows = await kv.read((tx) => tx.getRange(begin, r.end, { limit: 1000 }));
    for (const row of rows) {
      const b = decodeBucket(row.value);
      if (bucket === undefined || b.name === bucket) buckets.push({ name: b.name, createdAt: b.createdAt });
    }
    if (rows.length < 1000) break;
    begin = keyAfter(rows[rows.length - 1]!.key);
  }
  return { region, buckets, horizonMs: (await kv.read((tx) => readHorizon(tx))) ?? 0 };
}

export class RepairStopped extends Error {
  constructor() {
    super('the repair pass was stopped (the gateway is closing)');
    this.name = 'RepairStopped';
  }
}

export async function repairWith(
  local: LocalRegion,
  peer: RepairPeer,
  opts: { bucket?: string; walk?: WalkOptions; now?: () => number; stopped?: () => boolean } = {},
): Promise<RepairReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  let [mine, theirs] = await Promise.all([localHello(local.kv, local.region, opts.bucket), peer.hello(opts.bucket)]);
  const report: RepairReport = { peer: peer.region, buckets: 0, entriesHere: 0, entriesThere: 0, ranges: 0, leaves: 0, fetched: 0, sent: 0, changesFetched: 0, changesSent: 0, ms: 0, skipped: [], waiting: 0 };
  // what either side may have collected is no difference
  const floorMs = Math.max(mine.horizonMs, theirs.horizonMs);
  const applyHere = async (changes: Change[]) => {
    for (let i = 0; i < changes.length; i += APPLY_BATCH) {
      try {
        await local.apply(changes.slice(i, i + APPLY_BATCH));
      } catch (err) {
        if (!(err instanceof NotReadyError)) throw err;
        report.waiting++;
      }
    }
  };
  const compare = async (bucket: string, space: IndexSpace) => {
    // a closing gateway waits for one index's walk at most
    if (opts.stopped?.()) throw new RepairStopped();
    const scope: IndexScope = { bucket, space, floorMs };
    const stats = await walk(new KvIndexSide(local.kv, scope), peer.side(scope), rootRange(scope), opts.walk ?? DEFAULT_WALK, async (d) => {
      if (d.bLacks.length > 0) {
        const out = await changesFor(local.kv, local.region, bucket, space, d.bLacks.map((e) => e.key));
        for (let i = 0; i < out.length; i += APPLY_BATCH) await peer.apply(out.slice(i, i + APPLY_BATCH));
        report.changesSent += out.length;
      }
      if (d.aLacks.length > 0) {
        const got = await peer.changes(bucket, space, d.aLacks.map((e) => e.key));
        await applyHere(got);
        report.changesFetched += got.length;
      }
    });
    report.entriesHere += stats.countA;
    report.entriesThere += stats.countB;
    report.ranges += stats.ranges;
    report.leaves += stats.leaves;
    report.fetched += stats.aLacks;
    report.sent += stats.bLacks;
  };
  // which buckets exist, and which incarnations are gone: the named one, or all
  for (const space of NAME_SPACES) await compare(opts.bucket ?? '', space);
  // access keys are the cluster's, not a bucket's: compared on a whole pass
  if (opts.bucket === undefined) await compare('', 'ks');
  // the buckets as they are now that creations and deletions have been exchanged
  if (report.fetched + report.sent > 0) [mine, theirs] = await Promise.all([localHello(local.kv, local.region, opts.bucket), peer.hello(opts.bucket)]);
  const there = new Map(theirs.buckets.map((b) => [b.name, b.createdAt]));
  const both: string[] = [];
  for (const b of mine.buckets) (there.get(b.name) === b.createdAt ? both : report.skipped).push(b.name);
  for (const b of theirs.buckets) if (!mine.buckets.some((m) => m.name === b.name)) report.skipped.push(b.name);
  for (const bucket of both) {
    report.buckets++;
    for (const space of BUCKET_SPACES) await compare(bucket, space);
  }
  report.ms = now() - started;
  return report;
}
