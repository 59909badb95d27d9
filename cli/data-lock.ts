/**
 * One `erne serve` per data directory: <data-dir>/erne.lock holds the serving process's pid.
 * A second serve on the same directory is refused while that process lives; a lock left by a
 * process that died (SIGKILL, a crash) is taken over. The workers of `serve --workers N` run
 * under their primary's lock. Separate serves sharing one --metadata-dir, each with its own
 * data directory, are still allowed: LMDB is made for that.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError } from './errors.js';

export const LOCK_FILE = 'erne.lock';

interface LockContent {
  pid: number;
  /** the process's start time in clock ticks since boot (Linux), to tell a reused pid apart */
  procStart?: string;
}

/** field 22 of /proc/<pid>/stat; undefined where there is no /proc */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from its closing one
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(lock: LockContent): boolean {
  if (lock.pid === process.pid) return false;
  try {
    process.kill(lock.pid, 0);
  } catch (err) {
    // EPERM: it lives, as another user
    if ((err as { code?: string }).code !== 'EPERM') return false;
  }
  const now = procStart(lock.pid);
  return lock.procStart === undefined || now === undefined || now === lock.procStart;
}

function readLock(file: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockContent>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, procStart: parsed.procStart } : undefined;
  } catch {
    return undefined;
  }
}

export interface DataLock {
  file: string;
  /** removes the lock file if it is still ours; safe to call more than once */
  release(): void;
}

/** Takes <dataDir>/erne.lock for this process, or throws the one line saying who holds it. */
export function lockDataDir(dataDir: string): DataLock {
  const file = join(dataDir, LOCK_FILE);
  const mine: LockContent = { pid: process.pid, procStart: procStart(process.pid) };
  // written whole under another name, then linked: a reader never sees a half-written lock
  const tmp = `${file}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(mine) + '\n');
  try {
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const held = readLock(file);
      if (held && alive(held)) {
        throw new CommandError(`--data-dir ${dataDir} is already served by process ${held.pid} (lock file ${file}); stop that one first, or use another --data-dir`);
      }
      // the holder is gone: take its lock over (two starts racing for one stale lock at the
      // same instant could both win here; LMDB's own locking still keeps the metadata whole)
      renameSync(tmp, file);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* renamed into place */
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (readLock(file)?.pid === process.pid) {
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    }
  };
  // process.exit after SIGTERM, a failed start and a normal end all pass here
  process.on('exit', release);
  return { file, release };
}
