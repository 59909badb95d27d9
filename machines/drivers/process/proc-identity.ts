/**
 * Is this pid still the process we started? A pid alone is not an identity: after the process
 * dies the kernel hands the number to someone else, and adopting that stranger (or killing
 * it) would be the worst mistake a supervisor can make. So a pid is always recorded with the
 * process's start time, and a process counts as ours only when both still match.
 *
 * Linux gives the start time in /proc/<pid>/stat (clock ticks since boot: exact, unchanged by
 * exec). Elsewhere `ps -o lstart=` gives it to the second, good enough where /proc is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface ProcIdentity {
  pid: number;
  /** opaque: compare for equality only */
  startTime: string;
}

const HAS_PROC = existsSync('/proc/self/stat');

interface StatFacts {
  state: string;
  startTime: string;
}

/** state (field 3) and starttime (field 22) of /proc/<pid>/stat; the name before them may hold spaces and parens */
function readStat(pid: number): StatFacts | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  return state && startTime ? { state, startTime } : undefined;
}

function psStart(pid: number): string | undefined {
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

/** the identity of a live process, or undefined when there is none (a zombie counts as dead) */
export function identify(pid: number): ProcIdentity | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (HAS_PROC) {
    const s = readStat(pid);
    if (!s || s.state === 'Z' || s.state === 'X') return undefined;
    return { pid, startTime: s.startTime };
  }
  const start = psStart(pid);
  return start ? { pid, startTime: start } : undefined;
}

/** true only while the very process recorded in `who` is alive */
export function isAlive(who: ProcIdentity | undefined): boolean {
  if (!who) return false;
  return identify(who.pid)?.startTime === who.startTime;
}
