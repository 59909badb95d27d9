/**
 * An open-loop schedule: operation i is due at start + i × 1000/rate ms, whether or not the
 * earlier ones have been answered (a server that falls behind is not let off by a client that
 * waits for it). The pacer fires every operation whose time has come, sleeps until the next
 * one, and counts how far behind its schedule it started them.
 */

export interface PaceResult {
  started: number;
  /** the latest any operation started after its due time, ms */
  maxLateMs: number;
}

/** ms after the start at which operation i (0-based) is due at `ratePerSec` */
export function dueAt(i: number, ratePerSec: number): number {
  return (i * 1000) / ratePerSec;
}

/** how many operations a run of `durationMs` at `ratePerSec` holds */
export function opsIn(durationMs: number, ratePerSec: number): number {
  return Math.floor((durationMs * ratePerSec) / 1000);
}

export interface PaceDeps {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const realDeps: PaceDeps = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/**
 * Starts `fire(i)` for i = 0 … n-1 on schedule (not awaiting it); at most `maxInFlight` at once
 * (past that the pacer waits, and the lateness shows it). Resolves when all have been started.
 */
export async function pace(n: number, ratePerSec: number, fire: (i: number) => Promise<unknown>, o: { maxInFlight?: number } = {}, deps: PaceDeps = realDeps): Promise<PaceResult> {
  const t0 = deps.now();
  const maxInFlight = o.maxInFlight ?? 1024;
  let inFlight = 0;
  let maxLateMs = 0;
  let freed: (() => void) | undefined;
  for (let i = 0; i < n; i++) {
    const wait = t0 + dueAt(i, ratePerSec) - deps.now();
    if (wait > 0) await deps.sleep(wait);
    while (inFlight >= maxInFlight) await new Promise<void>((r) => (freed = r));
    maxLateMs = Math.max(maxLateMs, deps.now() - t0 - dueAt(i, ratePerSec));
    inFlight++;
    void fire(i)
      .catch(() => undefined)
      .finally(() => {
        inFlight--;
        freed?.();
        freed = undefined;
      });
  }
  return { started: n, maxLateMs };
}
