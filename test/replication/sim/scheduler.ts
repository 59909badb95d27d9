/**
 * Simulated time: a priority queue of timed events and nothing else. No real timer or I/O
 * runs: after each event every promise chain it set going is drained (one setImmediate,
 * which Node runs only once the microtask queue is empty), so the real replication code —
 * all async over an in-memory store — runs to its next wait on simulated time, and the
 * order of everything depends on the seed alone.
 */
interface Event {
  time: number;
  seq: number;
  fn: () => void;
}

const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Scheduler {
  /** simulated ms since the start of the run */
  now = 0;
  private heap: Event[] = [];
  private seq = 0;
  events = 0;

  /** runs `fn` at now + delay (events at one time run in the order they were scheduled) */
  after(delay: number, fn: () => void): void {
    this.push({ time: this.now + Math.max(0, delay), seq: this.seq++, fn });
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  get pending(): number {
    return this.heap.length;
  }

  /**
   * Runs events in time order until `done()` holds (checked between events), no event is
   * left, or the next one is later than `limit`. Returns whether `done()` held.
   */
  async run(limit: number, done: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      if (done()) return true;
      const ev = this.heap[0];
      if (!ev || ev.time > limit) return false;
      this.pop();
      this.now = ev.time;
      this.events++;
      ev.fn();
      await drain();
    }
  }

  private push(ev: Event): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function before(a: Event, b: Event): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
