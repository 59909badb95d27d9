/**
 * Runs the relay (relay.ts) in a gateway: a pass every `intervalMs`, another at once when a
 * local write is committed or a direct delivery left entries waiting (`kick`), or when the
 * last pass moved entries (there may be more),
 * never two at a time. A pass that fails (Redis down) is retried at the interval and reported
 * to `onPass`; writes never wait for it, since they only commit their outbox entry.
 */

export interface RelayLike {
  pass(): Promise<number>;
}

export interface RelayRunnerOptions {
  /** default 20 ms */
  intervalMs?: number;
  /** after every pass: the error it failed with, or how many entries it enqueued */
  onPass?: (err: Error | undefined, moved: number) => void;
}

export class RelayRunner {
  private timer: NodeJS.Timeout | undefined;
  /** a pass "at once" runs on the next turn of the event loop (a 0 ms timeout waits at least 1 ms) */
  private immediate: NodeJS.Immediate | undefined;
  private current: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private failing = false;
  private readonly intervalMs: number;

  constructor(
    private readonly relay: RelayLike,
    private readonly opts: RelayRunnerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 20;
  }

  start(): void {
    this.schedule(0);
  }

  /** a local write committed an outbox entry: pass soon (while passes fail, at the interval) */
  kick(): void {
    if (this.stopped || this.failing) return;
    if (this.current) this.again = true;
    else this.schedule(0);
  }

  /** stops the timer and waits for a pass in progress */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel();
    await this.current;
  }

  private schedule(ms: number): void {
    this.cancel();
    if (ms === 0) this.immediate = setImmediate(() => this.run());
    else this.timer = setTimeout(() => this.run(), ms);
  }

  private cancel(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private run(): void {
    this.cancel();
    if (this.stopped || this.current) return;
    this.current = (async () => {
      let moved = 0;
      let failure: Error | undefined;
      try {
        moved = await this.relay.pass();
      } catch (err) {
        failure = err instanceof Error ? err : new Error(String(err));
      }
      this.failing = failure !== undefined;
      this.opts.onPass?.(failure, moved);
      const soon = !this.failing && (moved > 0 || this.again);
      this.again = false;
      this.current = undefined;
      if (!this.stopped) this.schedule(soon ? 0 : this.intervalMs);
    })();
  }
}

/**
 * One line when something starts failing and one when it works again, however many times it
 * fails in between (a relay passing every 20 ms, a client reconnecting, workers retrying).
 */
export class OutageLog {
  private down = false;

  constructor(
    private readonly log: (line: string) => void,
    private readonly lines: { down: (err: Error) => string; up: string },
  ) {}

  failed(err: Error): void {
    if (this.down) return;
    this.down = true;
    this.log(this.lines.down(err));
  }

  worked(): void {
    if (!this.down) return;
    this.down = false;
    this.log(this.lines.up);
  }
}
