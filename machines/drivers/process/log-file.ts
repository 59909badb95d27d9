/**
 * A machine's log: every line its program writes (stdout and stderr) and the supervisor's own
 * notes, one line each, prefixed with the time it was seen and where it came from:
 *
 *   2026-12-06T04:10:00.123Z out serving S3 at http://0.0.0.0:9000
 *
 * The supervisor (shim.ts) writes it; the driver reads it, and follows it as `tail -F` does.
 * It is kept to a bounded size: past ROTATE_BYTES the file moves to `<name>.1` (the previous
 * `.1` is dropped) and a new one begins; a follower finishes the old file, then goes on.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export type LogSource = 'out' | 'err' | 'erne';

export const ROTATE_BYTES = 32 * 1024 * 1024;
/** a line longer than this is cut into pieces (a program printing no newline must not grow memory) */
const MAX_LINE = 64 * 1024;
const FOLLOW_POLL_MS = 100;

export interface LogLine {
  time: string;
  source: LogSource;
  text: string;
}

export function formatLogLine(l: LogLine): string {
  return `${l.time} ${l.source} ${l.text}`;
}

/** the parts of a stored line; a line not in the format comes back whole as text */
export function parseLogLine(line: string): LogLine {
  const m = /^(\S+) (out|err|erne) (.*)$/s.exec(line);
  return m ? { time: m[1]!, source: m[2] as LogSource, text: m[3]! } : { time: '', source: 'erne', text: line };
}

/** appends stamped lines to the log file, holding a partial line per source until its newline */
export class LogWriter {
  private fd: number;
  private size: number;
  private readonly partial = new Map<LogSource, string>();

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  /** a chunk of a program's output; whole lines are written now, the rest when its newline comes */
  write(source: LogSource, chunk: string): void {
    let text = (this.partial.get(source) ?? '') + chunk;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      this.line(source, text.slice(0, nl).replace(/\r$/, ''));
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE) {
      this.line(source, text.slice(0, MAX_LINE));
      text = text.slice(MAX_LINE);
    }
    this.partial.set(source, text);
  }

  /** one whole line, stamped now */
  line(source: LogSource, text: string): void {
    const bytes = Buffer.from(formatLogLine({ time: new Date().toISOString(), source, text }) + '\n');
    if (this.size + bytes.length > ROTATE_BYTES && this.size > 0) this.rotate();
    writeSync(this.fd, bytes);
    this.size += bytes.length;
  }

  /** writes what is left of unfinished lines (the program ended without a last newline) */
  flush(): void {
    for (const [source, text] of this.partial) if (text) this.line(source, text);
    this.partial.clear();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }
}

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** reads an open file from `offset` to its current end; returns whole lines and the rest */
function drain(fd: number, state: { offset: number; rest: string }): string[] {
  const buf = Buffer.alloc(64 * 1024);
  const lines: string[] = [];
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, state.offset);
    if (n === 0) break;
    state.offset += n;
    const parts = (state.rest + buf.subarray(0, n).toString('utf8')).split('\n');
    state.rest = parts.pop()!;
    lines.push(...parts);
  }
  return lines;
}

/**
 * The log's lines so far (the rotated file first); with follow, keeps yielding new lines as
 * they are written, across rotations, until `signal` aborts.
 */
export async function* readLog(path: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<string> {
  const old = `${path}.1`;
  if (inode(old) !== undefined) {
    const fd = openSync(old, 'r');
    try {
      const state = { offset: 0, rest: '' };
      yield* drain(fd, state);
      if (state.rest) yield state.rest;
    } finally {
      closeSync(fd);
    }
  }
  let fd: number | undefined;
  let ino: number | undefined;
  const state = { offset: 0, rest: '' };
  try {
    for (;;) {
      if (fd === undefined && (ino = inode(path)) !== undefined) fd = openSync(path, 'r');
      if (fd !== undefined) yield* drain(fd, state);
      if (!opts.follow || opts.signal?.aborted) break;
      // the writer moved this file away: finish it (done above), then start on the new one
      if (fd !== undefined && inode(path) !== ino) {
        if (state.rest) yield state.rest;
        closeSync(fd);
        fd = undefined;
        state.offset = 0;
        state.rest = '';
        continue;
      }
      try {
        await sleep(FOLLOW_POLL_MS, undefined, { signal: opts.signal });
      } catch {
        break; // aborted
      }
    }
    // a last line without its newline yet is still a line the reader should see
    if (state.rest) yield state.rest;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
