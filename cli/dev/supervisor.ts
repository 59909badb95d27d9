/**
 * A small supervisor of child processes: it starts each one and waits until it is ready,
 * prefixes its output lines with its name, restarts it when it dies (after a back-off that
 * doubles while it keeps dying and resets once it has stayed up), says so in one line, and
 * stops everything it started, in reverse order, escalating to SIGKILL after a grace period.
 *
 * Children run in their own process group (detached), so a Ctrl-C at the terminal reaches
 * only the supervising process, which then stops them in order: nothing is stopped twice and
 * nothing is restarted while stopping. Where util-linux's setpriv is found (Linux), each child
 * is also started with a parent-death signal, so even a supervisor killed with SIGKILL leaves
 * no child behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface ChildSpec {
  /** how notices and log lines name it, e.g. "fra gateway" */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** polled after each start until true: the child (this pid) is up (default: as soon as it spawned) */
  ready?: (pid: number) => Promise<boolean>;
  /** a start not ready within this time is killed and counts as a death (default 30 s) */
  readyTimeoutMs?: number;
  /** false: this output line is kept for error messages but not shown */
  show?: (line: string) => boolean;
}

export interface RestartPolicy {
  /** wait before the first restart */
  initialDelayMs: number;
  /** the doubling stops here */
  maxDelayMs: number;
  /** a child that stayed up this long starts again from initialDelayMs */
  stableAfterMs: number;
}

export const DEFAULT_POLICY: RestartPolicy = { initialDelayMs: 250, maxDelayMs: 8000, stableAfterMs: 10_000 };

export interface SupervisorOptions {
  /** one line about the children (died, restarting, back) */
  notice: (line: string) => void;
  /** one output line of a child, already prefixed with its name */
  log: (line: string) => void;
  policy?: Partial<RestartPolicy>;
  /** SIGTERM first, SIGKILL after this (default 15 s) */
  stopGraceMs?: number;
}

export interface Supervised {
  readonly name: string;
  /** the current process's pid (changes with each restart) */
  readonly pid: number | undefined;
  readonly restarts: number;
}

/** a child that could not be started the first time: its name and the tail of its output */
export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(
    readonly child: string,
    readonly outcome: string,
    readonly tail: string[],
  ) {
    super(`${child} ${outcome}${tail.length ? `:\n${tail.join('\n')}` : ''}`);
  }

  /** for an operator: what happened and the child's own last word (its `erne: …` line if any) */
  oneLine(): string {
    const last = [...this.tail].reverse().find((l) => l.startsWith('erne: ')) ?? this.tail.at(-1);
    return `${this.child} ${this.outcome}${last ? `: ${last.replace(/^erne: /, '')}` : ''}`;
  }
}

const TAIL_LINES = 20;

/** `setpriv --pdeathsig KILL -- cmd …` sets the signal and execs cmd: same pid, no extra process */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p));

/** whether children die with the supervisor even when it is SIGKILLed */
export const ORPHAN_GUARD = SETPRIV !== undefined;

class Child implements Supervised {
  proc: ChildProcess | undefined;
  restarts = 0;
  /** deaths in a row without staying up stableAfterMs */
  failures = 0;
  startedAt = 0;
  tail: string[] = [];
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<void> = Promise.resolve();

  constructor(readonly spec: ChildSpec) {}

  get name(): string {
    return this.spec.name;
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  alive(): boolean {
    return this.proc?.pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }
}

export class Supervisor {
  private readonly children: Child[] = [];
  private readonly policy: RestartPolicy;
  private stopping = false;

  constructor(private readonly opts: SupervisorOptions) {
    this.policy = { ...DEFAULT_POLICY, ...opts.policy };
  }

  /** every pid alive now, for a last-resort kill */
  pids(): number[] {
    return this.children.flatMap((c) => (c.alive() && c.pid !== undefined ? [c.pid] : []));
  }

  /**
   * Starts a child and resolves once it is ready. A child that exits or is not ready in time
   * on this first start is not restarted: StartError carries the tail of its output.
   */
  async start(spec: ChildSpec): Promise<Supervised> {
    if (this.stopping) throw new StartError(spec.name, 'was not started: stopping', []);
    const child = new Child(spec);
    this.children.push(child);
    const outcome = await this.launch(child);
    if (outcome !== 'ready') {
      this.children.splice(this.children.indexOf(child), 1);
      throw new StartError(spec.name, outcome, child.tail);
    }
    this.watch(child);
    return child;
  }

  /** stops every child, the last started first; resolves when all have exited */
  async stopAll(): Promise<void> {
    this.stopping = true;
    for (const child of [...this.children].reverse()) {
      clearTimeout(child.restartTimer);
      if (!child.alive()) continue;
      const proc = child.proc!;
      proc.kill('SIGTERM');
      const force = setTimeout(() => proc.kill('SIGKILL'), this.opts.stopGraceMs ?? 15_000);
      await child.exited;
      clearTimeout(force);
    }
  }

  /** a second Ctrl-C: no more waiting */
  killAll(): void {
    this.stopping = true;
    for (const c of this.children) {
      clearTimeout(c.restartTimer);
      if (c.alive()) c.proc!.kill('SIGKILL');
    }
  }

  /** spawns the child and waits for its readiness: 'ready', or why it did not get there */
  private async launch(child: Child): Promise<'ready' | string> {
    const { spec } = child;
    // a command that is not there is spawned directly, for node's own ENOENT
    const guard = SETPRIV !== undefined && findable(spec.command, spec.env?.['PATH'] ?? process.env['PATH']);
    const [command, args] = guard ? [SETPRIV, ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args]] : [spec.command, spec.args];
    const proc = spawn(command, args, { env: spec.env, cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.proc = proc;
    child.startedAt = Date.now();
    child.exited = new Promise((resolve) => {
      proc.once('close', () => resolve());
      proc.once('error', () => resolve());
    });
    let exitedWith: string | undefined;
    const spawnFailed = new Promise<string>((resolve) => proc.once('error', (err) => resolve(`could not be started: ${err.message}`)));
    proc.once('exit', (code, signal) => (exitedWith = describeExit(code, signal)));
    for (const stream of [proc.stdout!, proc.stderr!]) this.lines(child, stream);

    const deadline = Date.now() + (spec.readyTimeoutMs ?? 30_000);
    const failed = await Promise.race([spawnFailed, this.waitReady(child, () => exitedWith, deadline)]);
    if (failed === undefined) return 'ready';
    if (child.alive()) proc.kill('SIGKILL');
    await child.exited;
    return failed;
  }

  /** undefined once ready; otherwise the reason it never was */
  private async waitReady(child: Child, exited: () => string | undefined, deadline: number): Promise<string | undefined> {
    const { ready } = child.spec;
    for (;;) {
      const why = exited();
      if (why !== undefined) return `exited before it was ready (${why})`;
      const pid = child.proc?.pid;
      if (pid !== undefined && (ready === undefined || (await ready(pid).catch(() => false)))) {
        // a probe racing the exit: trust the exit
        return exited() === undefined ? undefined : `exited before it was ready (${exited()})`;
      }
      if (Date.now() > deadline) return `was not ready within ${Math.round((child.spec.readyTimeoutMs ?? 30_000) / 1000)} s`;
      if (this.stopping) return 'was stopped';
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** on each death: a notice, then a restart after the back-off */
  private watch(child: Child): void {
    const proc = child.proc!;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.stopping) return;
      const upFor = Date.now() - child.startedAt;
      child.failures = upFor >= this.policy.stableAfterMs ? 0 : child.failures + 1;
      const delay = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** Math.max(0, child.failures - 1));
      this.opts.notice(`${child.name} (pid ${proc.pid}) died (${describeExit(code, signal)}); restarting it in ${seconds(delay)}`);
      child.restartTimer = setTimeout(() => void this.restart(child), delay);
    };
    if (child.alive()) proc.once('exit', onExit);
    else onExit(proc.exitCode, proc.signalCode);
  }

  private async restart(child: Child): Promise<void> {
    if (this.stopping) return;
    child.restarts += 1;
    const outcome = await this.launch(child);
    if (this.stopping) return;
    if (outcome === 'ready') {
      this.opts.notice(`${child.name} is back (pid ${child.pid})`);
      this.watch(child);
      return;
    }
    // it died again before it was up: the next try waits longer
    child.failures += 1;
    const delay = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** Math.max(0, child.failures - 1));
    const tail = child.tail.at(-1);
    this.opts.notice(`${child.name} ${outcome}${tail ? ` [${tail}]` : ''}; trying again in ${seconds(delay)}`);
    child.restartTimer = setTimeout(() => void this.restart(child), delay);
  }

  private lines(child: Child, stream: NodeJS.ReadableStream): void {
    let partial = '';
    const emit = (line: string) => {
      child.tail.push(line);
      if (child.tail.length > TAIL_LINES) child.tail.shift();
      if (child.spec.show?.(line) ?? true) this.opts.log(`[${child.name}] ${line}`);
    };
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop()!;
      for (const line of parts) if (line.trim() !== '') emit(line.replace(/\r$/, ''));
    });
    stream.on('end', () => {
      if (partial.trim() !== '') emit(partial);
      partial = '';
    });
  }
}

function findable(command: string, path = ''): boolean {
  if (command.includes('/')) return existsSync(command);
  return path.split(':').some((dir) => dir !== '' && existsSync(`${dir}/${command}`));
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? signal : `exit code ${code}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}
