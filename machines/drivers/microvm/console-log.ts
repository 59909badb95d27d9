/**
 * The machine's log is its serial console, appended to a file by QEMU (and the driver's own
 * `erne-microvm: …` lines): read as lines, followed, and searched for how the program ended.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { EXIT_MARK } from './init-script.js';

/** The prefix of the driver's own lines in the log. */
export const DRIVER_MARK = 'erne-microvm: ';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readFrom(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** The log's lines so far; with follow, keeps yielding new ones until the signal aborts. */
export async function* consoleLines(file: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<string> {
  let offset = 0;
  let partial = '';
  for (;;) {
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size > offset) {
      const lines = (partial + readFrom(file, offset, size - offset).toString('utf8')).split('\n');
      offset = size;
      partial = lines.pop()!;
      for (const l of lines) yield l.replace(/\r$/, '');
    }
    if (!opts.follow || opts.signal?.aborted) break;
    await sleep(200);
    if (opts.signal?.aborted) break;
  }
  if (partial) yield partial.replace(/\r$/, '');
}

/** The guest program's exit as the init printed it; no mark since the last boot means qemu died first (killed). */
export function guestExit(file: string): { exitCode: number | null; signal: string | null } {
  let tail: string;
  try {
    const size = statSync(file).size;
    const n = Math.min(size, 64 * 1024);
    tail = readFrom(file, size - n, n).toString('utf8');
  } catch {
    return { exitCode: null, signal: null };
  }
  const lastBoot = Math.max(tail.lastIndexOf(`${DRIVER_MARK}cold boot`), tail.lastIndexOf(`${DRIVER_MARK}resuming`));
  const at = tail.lastIndexOf(EXIT_MARK);
  if (at < 0 || at < lastBoot) return { exitCode: null, signal: 'SIGKILL' };
  return { exitCode: Number.parseInt(tail.slice(at + EXIT_MARK.length), 10), signal: null };
}
