import type { ObjectLayer } from '../metadata/object-layer.js';
import type { BlobStore } from './types.js';

export interface JanitorOptions {
  /** between passes; default 60 s */
  intervalMs?: number;
  /**
   * a blob or temp file younger than this is never swept: it may belong to a write whose
   * metadata commit has not happened yet. Default 1 hour.
   */
  orphanMinAgeMs?: number;
  log?: (msg: string) => void;
  /**
   * the multipart layer: parts of aborted uploads, of dropped multipart versions and parts a
   * completion did not name are moved into the garbage queue (bounded batches) each pass
   */
  multipart?: { releaseQueued(budget?: number): Promise<number> };
}

export interface Janitor {
  /** cancels the timer and waits for a pass in progress (and one a runOnce() queued after it) */
  stop(): Promise<void>;
  /**
   * a pass that sees every change made before this call: one now, or, while a pass is
   * running (it may have read the queues before the change), one more right after it.
   * Rejects if that pass failed.
   */
  runOnce(): Promise<void>;
}

/** garbage entries taken per metadata read; also bounds one clearGarbage transaction */
const GARBAGE_BATCH = 256;
/** a pass stops after this many batches so one pass stays bounded; the next continues */
const MAX_BATCHES_PER_PASS = 64;
/** multipart part records released per pass (each metadata transaction handles ≤ 500) */
const MULTIPART_BUDGET = GARBAGE_BATCH * MAX_BATCHES_PER_PASS;

/**
 * Background upkeep of this node's bytes: removes blob files that versions stopped pointing
 * to (the garbage queue the object layer fills in the same transaction that drops the
 * reference), and sweeps orphans (temp files of crashed writes, blobs whose metadata commit
 * never happened). Runs once at start and then every interval.
 */
export function startJanitor(layer: ObjectLayer, blobs: BlobStore, opts: JanitorOptions = {}): Janitor {
  const intervalMs = opts.intervalMs ?? 60_000;
  const orphanMinAgeMs = opts.orphanMinAgeMs ?? 3_600_000;
  const log = opts.log ?? (() => undefined);
  let running: Promise<void> | undefined;
  /** the pass that starts when `running` ends; every runOnce() made meanwhile shares it */
  let queued: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function collectGarbage(): Promise<number> {
    let removed = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
      const entries = await layer.garbage(GARBAGE_BATCH);
      // entries of other nodes stay queued for their own janitor
      const mine = entries.filter((e) => e.node === blobs.nodeId);
      const cleared: string[] = [];
      for (const { blobId } of mine) {
        try {
          await blobs.delete(blobId);
          cleared.push(blobId);
        } catch (err) {
          log(`janitor: could not delete blob ${blobId}: ${(err as Error).message}`);
        }
      }
      if (cleared.length > 0) await layer.clearGarbage(cleared);
      removed += cleared.length;
      // stop when the queue is drained, or when nothing more can be done for this node
      if (entries.length < GARBAGE_BATCH || cleared.length === 0) break;
    }
    return removed;
  }

  async function pass(): Promise<void> {
    // first, so the parts it frees are deleted by this same pass
    const parts = (await opts.multipart?.releaseQueued(MULTIPART_BUDGET)) ?? 0;
    if (parts > 0) log(`janitor: released ${parts} multipart part(s)`);
    const garbage = await collectGarbage();
    const orphans = await blobs.sweepOrphans((id) => layer.isBlobReferenced(id), orphanMinAgeMs);
    if (garbage + orphans > 0) log(`janitor: removed ${garbage} garbage blob(s), ${orphans} orphan file(s)`);
  }

  function begin(): Promise<void> {
    running = pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  function runOnce(): Promise<void> {
    if (!running) return begin();
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return begin();
      });
    return queued;
  }

  /** the timer's pass: joining one in progress is enough, nobody waits for a change */
  function runOnTimer(): Promise<void> {
    return running ?? begin();
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnTimer()
        .catch((err: unknown) => log(`janitor: pass failed: ${(err as Error).message}`))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  // first pass at start; its failure is logged, not thrown at whoever started us
  runOnce()
    .catch((err: unknown) => log(`janitor: pass failed: ${(err as Error).message}`))
    .finally(schedule);

  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
      await queued?.catch(() => undefined);
    },
  };
}
