/**
 * The signal and timeout of a stop or restart request as Fly takes them: a signal by name
 * ("SIGINT", "INT") or number (15), a timeout as a duration ("10s") or, in a query string,
 * a bare number of seconds. Anything else is a 400.
 */
import { parseDuration } from '../duration.js';
import { badRequest } from './errors.js';

const DEFAULT_SIGNAL: NodeJS.Signals = 'SIGTERM';

export function stopOptions(signal: unknown, timeout: unknown): { signal: NodeJS.Signals; timeout_ms?: number } {
  let sig: NodeJS.Signals = DEFAULT_SIGNAL;
  if (signal !== undefined && signal !== '') {
    const s = typeof signal === 'number' ? signal : String(signal).toUpperCase();
    const named = typeof s === 'number' ? numberedSignal(s) : ((s.startsWith('SIG') ? s : `SIG${s}`) as NodeJS.Signals);
    if (!named || !SIGNALS.has(named)) throw badRequest(`signal: not a signal: ${String(signal)}`);
    sig = named;
  }
  let timeoutMs: number | undefined;
  try {
    timeoutMs = timeout === undefined || timeout === '' ? undefined : parseDuration(seconds(timeout as string | number), 0);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  return { signal: sig, ...(timeoutMs !== undefined ? { timeout_ms: timeoutMs } : {}) };
}

const SIGNALS = new Set<string>(['SIGABRT', 'SIGALRM', 'SIGFPE', 'SIGHUP', 'SIGILL', 'SIGINT', 'SIGKILL', 'SIGPIPE', 'SIGQUIT', 'SIGSEGV', 'SIGTERM', 'SIGTRAP', 'SIGUSR1', 'SIGUSR2']);

function numberedSignal(n: number): NodeJS.Signals | undefined {
  const byNumber: Record<number, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 10: 'SIGUSR1', 12: 'SIGUSR2', 15: 'SIGTERM' };
  return byNumber[n];
}

/** a bare number in a query string is seconds, as Fly's `timeout=60` */
export function seconds(v: string | number | undefined): string | number | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
}
