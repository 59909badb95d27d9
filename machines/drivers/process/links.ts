/**
 * The links between regions (latency, and partitions on demand), each a detached process
 * (link-process.ts) recorded under <root>/links/<name>.json with its pid and start time, so a
 * restarted driver finds them and opening a link again is a no-op while it runs. A link that
 * died is opened again on its old port: the machines that use it look for it there.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readJson, writeJson } from './machine-files.js';
import { identify, isAlive, type ProcIdentity } from './proc-identity.js';

export interface LinkSpec {
  /** the region whose machines use the link */
  from: string;
  target: { host: string; port: number };
  /** one-way delay each way (ms) */
  delayMs: number;
}

export interface LinkInfo extends LinkSpec {
  name: string;
  /** where the machines of `from` reach it */
  host: string;
  port: number;
  url: string;
  running: boolean;
}

interface LinkRecord extends LinkSpec {
  name: string;
  host: string;
  port: number;
  proc: ProcIdentity;
}

const READY_TIMEOUT_MS = 10_000;

export class RegionLinks {
  private readonly dir: string;

  constructor(
    root: string,
    /** the compiled link-process.js (found when first needed) */
    private readonly entry: () => string,
  ) {
    this.dir = join(root, 'links');
    mkdirSync(this.dir, { recursive: true });
  }

  /** opens the link (listening on `host`), or returns it when it already runs as asked */
  async open(name: string, spec: LinkSpec, host: string, port = 0): Promise<LinkInfo> {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Error(`a link name is letters, digits, . _ -: ${JSON.stringify(name)}`);
    const known = readJson<LinkRecord>(this.path(name));
    if (known && isAlive(known.proc)) {
      const same = known.from === spec.from && known.host === host && known.target.host === spec.target.host && known.target.port === spec.target.port && known.delayMs === spec.delayMs;
      if (!same) throw new Error(`link ${name} runs to ${known.target.host}:${known.target.port} (${known.delayMs} ms): close it first`);
      return info(known, true);
    }
    const ready = join(this.dir, `${name}.ready`);
    rmSync(ready, { force: true });
    const errFile = join(this.dir, `${name}.err`);
    const errFd = openSync(errFile, 'a');
    const args = { host, port: port || known?.port || 0, target: spec.target, delayMs: spec.delayMs, readyFile: ready };
    const child = spawn(process.execPath, [this.entry(), JSON.stringify(args)], { detached: true, stdio: ['ignore', 'ignore', errFd] });
    closeSync(errFd);
    let ended = false;
    child.once('exit', () => (ended = true));
    child.once('error', () => (ended = true));
    child.unref();
    try {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (!existsSync(ready)) {
        if (ended || Date.now() > deadline) {
          const why = readFileSync(errFile, 'utf8').trim().split('\n').at(-1);
          throw new Error(`link ${name} did not start${why ? `: ${why}` : ''}`);
        }
        await sleep(20);
      }
      const proc = identify(child.pid!);
      if (!proc) throw new Error(`link ${name} ended as it started: ${readFileSync(errFile, 'utf8').trim()}`);
      const rec: LinkRecord = { name, ...spec, host, port: (JSON.parse(readFileSync(ready, 'utf8')) as { port: number }).port, proc };
      writeJson(this.path(name), rec);
      return info(rec, true);
    } catch (err) {
      // a link not recorded must not run: nobody could find it to close it
      if (!ended) child.kill('SIGKILL');
      throw err;
    } finally {
      rmSync(ready, { force: true });
    }
  }

  list(): LinkInfo[] {
    return this.names().flatMap((n) => {
      const rec = readJson<LinkRecord>(this.path(n));
      return rec ? [info(rec, isAlive(rec.proc))] : [];
    });
  }

  /** drops traffic as a partition does (open connections reset) until heal() */
  cut(name: string): void {
    this.signal(name, 'SIGUSR1');
  }

  heal(name: string): void {
    this.signal(name, 'SIGUSR2');
  }

  async close(name: string): Promise<void> {
    const rec = readJson<LinkRecord>(this.path(name));
    if (!rec) return;
    if (isAlive(rec.proc)) {
      process.kill(rec.proc.pid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (isAlive(rec.proc)) {
        if (Date.now() > deadline) process.kill(rec.proc.pid, 'SIGKILL');
        await sleep(20);
      }
    }
    rmSync(this.path(name), { force: true });
    rmSync(join(this.dir, `${name}.err`), { force: true });
  }

  async closeAll(): Promise<void> {
    for (const n of this.names()) await this.close(n);
  }

  private signal(name: string, sig: NodeJS.Signals): void {
    const rec = readJson<LinkRecord>(this.path(name));
    if (!rec || !isAlive(rec.proc)) throw new Error(`link ${name} is not running`);
    process.kill(rec.proc.pid, sig);
  }

  private names(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
  }

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }
}

function info(rec: LinkRecord, running: boolean): LinkInfo {
  return { name: rec.name, from: rec.from, target: rec.target, delayMs: rec.delayMs, host: rec.host, port: rec.port, url: `http://${rec.host}:${rec.port}`, running };
}
