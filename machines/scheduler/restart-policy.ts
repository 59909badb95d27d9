/**
 * What happens after a machine's program ends or fails to start, by its restart policy (Fly's
 * default, on-failure with 10 retries, when the config names none), and how long to wait
 * before the next start: exponential back-off from `baseMs`, doubled per failure, capped.
 */
import type { MachineConfig } from '../api/types.js';

export const DEFAULT_MAX_RETRIES = 10;

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 };

/** true: start it again; `failures` counts this one */
export function shouldRestart(config: MachineConfig, exitCode: number | null | undefined, failures: number): boolean {
  const policy = config.restart?.policy ?? 'on-failure';
  if (policy === 'no') return false;
  if (policy === 'always') return true;
  // on-failure: a clean exit (0) is the program's decision to stop
  if (exitCode === 0) return false;
  return failures <= (config.restart?.max_retries ?? DEFAULT_MAX_RETRIES);
}

export function backoffMs(failures: number, b: Backoff): number {
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.max(0, failures - 1));
}
