/**
 * Repair as a gateway runs it: a pass with every other region in turn (pass.ts), then a
 * tombstone collection round (horizon.ts), every `intervalMs` in the process that delivers
 * replication and on demand (`erne replication repair`, through the repair endpoint). A run
 * asked for while one is under way joins it rather than starting a second.
 */
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { collectRound, DEFAULT_INFLIGHT_MS, lowWaterMarks, type CollectRound, type LowWaterMarks, type MarkSource } from './horizon.js';
import { repairWith, type RepairPeer, type RepairReport } from './pass.js';

export interface RepairRun {
  region: string;
  /** ms since epoch */
  startedAt: number;
  ms: number;
  bucket?: string;
  peers: (RepairReport | { peer: string; error: string })[];
  /** absent when a bucket was named (collection is cluster-wide) */
  collection?: CollectRound;
}

/** how long a version may stay repairable after every region acknowledged it, by default */
export const DEFAULT_TOMBSTONE_GRACE_MS = 60 * 60_000;

export interface RepairServiceOptions {
  kv: KvStore;
  self: string;
  /** every region of the cluster, self included */
  regions: readonly string[];
  peers: RepairPeer[];
  /** a peer's outbox low-water marks (undefined: it did not answer) */
  askMarks(region: string): Promise<LowWaterMarks | undefined>;
  outbox: MarkSource;
  /** applies changes here, moving the region's clock */
  apply(changes: Change[]): Promise<void>;
  /** 0 or undefined: no schedule, on demand only */
  intervalMs?: number;
  graceMs?: number;
  inflightMs?: number;
  log(line: string): void;
  now?: () => number;
}

export class RepairService {
  private running: Promise<RepairRun> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly o: RepairServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  marks(): Promise<LowWaterMarks> {
    return lowWaterMarks(
      this.o.outbox,
      this.o.regions.filter((r) => r !== this.o.self),
      this.now(),
      this.o.inflightMs ?? DEFAULT_INFLIGHT_MS,
    );
  }

  /** a pass with every peer, then (for the whole cluster) a collection round */
  run(bucket?: string): Promise<RepairRun> {
    if (this.running) return this.running;
    const p = this.runOnce(bucket).finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  start(): void {
    if (!this.o.intervalMs || this.timer || this.closed) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.run()
          .then((r) => this.logRun(r))
          .catch((err: Error) => this.o.log(`repair: the pass failed: ${err.message}`))
          .finally(() => !this.closed && tick());
      }, this.o.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async runOnce(bucket?: string): Promise<RepairRun> {
    const startedAt = this.now();
    const peers: RepairRun['peers'] = [];
    for (const peer of this.o.peers) {
      try {
        peers.push(await repairWith({ region: this.o.self, kv: this.o.kv, apply: this.o.apply }, peer, { bucket, now: this.now, stopped: () => this.closed }));
      } catch (err) {
        peers.push({ peer: peer.region, error: (err as Error).message });
      }
    }
    const run: RepairRun = { region: this.o.self, startedAt, ms: 0, peers, ...(bucket !== undefined ? { bucket } : {}) };
    if (bucket === undefined && !this.closed) {
      run.collection = await collectRound({
        kv: this.o.kv,
        self: this.o.self,
        regions: this.o.regions,
        own: () => this.marks(),
        ask: (r) => this.o.askMarks(r),
        graceMs: this.o.graceMs ?? DEFAULT_TOMBSTONE_GRACE_MS,
        now: this.now,
      });
    }
    run.ms = this.now() - startedAt;
    return run;
  }


  /** a scheduled run says something only when it fixed or failed something */
  private logRun(r: RepairRun): void {
    for (const p of r.peers) {
      if ('error' in p) this.o.log(`repair with ${p.peer} failed: ${p.error}`);
      else if (p.fetched + p.sent > 0) this.o.log(`repair with ${p.peer}: ${p.fetched} entries fetched, ${p.sent} sent, in ${p.ms} ms`);
    }
  }
}
