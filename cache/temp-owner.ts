/**
 * Temp files of uploads in progress carry the writing process's pid (`<blob id>.<pid>`), so
 * a process starting on the volume can tell the leftovers of a killed one (remove) from the
 * uploads of a live one sharing the volume, as `erne serve --workers` does (keep).
 */
import { readFileSync } from 'node:fs';

const TEMP_NAME = /^([0-9a-f]{24})\.([1-9][0-9]{0,9})$/;

export function tempName(blobId: string): string {
  return `${blobId}.${process.pid}`;
}

/** the pid in a temp file's name; undefined for names of another form (left to the age rule) */
export function tempOwner(name: string): number | undefined {
  const m = TEMP_NAME.exec(name);
  return m ? Number(m[2]) : undefined;
}

/**
 * Whether `pid` may still be writing its temp files: this process, or a live process that is
 * an Erne (its command line names erne). A pid that was reused by another program does not
 * own the file; where /proc cannot say, a live pid is taken to own it.
 */
export function ownerAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, another user's
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  return /erne/i.test(cmdline);
}
