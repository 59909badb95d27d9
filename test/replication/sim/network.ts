/**
 * The simulated network between regions: each message (and each answer) may be dropped,
 * duplicated and delayed — independent delays reorder them — and a partition drops
 * everything between two regions in either direction, checked when a message leaves and
 * when it arrives. What travels is packed with msgpack, as on the wire, so the receiver never
 * shares an object with the sender.
 */
import { pack, unpack } from 'msgpackr';
import type { Rng } from './rng.js';
import type { Scheduler } from './scheduler.js';

export interface NetFaults {
  /** probability that a message is lost */
  drop: number;
  /** probability that a message arrives twice */
  dup: number;
  /** one-way delay, uniform in [1, maxDelay] ms */
  maxDelay: number;
}

export class Network {
  faults: NetFaults;
  private cut = new Set<string>();

  constructor(
    private readonly sched: Scheduler,
    private readonly rng: Rng,
    private readonly trace: (line: string) => void,
    faults: NetFaults,
  ) {
    this.faults = faults;
  }

  partition(a: string, b: string): void {
    this.cut.add(pairKey(a, b));
  }

  heal(a?: string, b?: string): void {
    if (a === undefined || b === undefined) this.cut.clear();
    else this.cut.delete(pairKey(a, b));
  }

  isCut(a: string, b: string): boolean {
    return this.cut.has(pairKey(a, b));
  }

  /** sends `payload` from → to; `arrive` gets its own unpacked copy at each arrival */
  transmit<T>(from: string, to: string, what: string, payload: T, arrive: (copy: T) => void): void {
    if (this.isCut(from, to)) return this.trace(`net ${from}→${to} ${what}: cut`);
    if (this.rng.chance(this.faults.drop)) return this.trace(`net ${from}→${to} ${what}: dropped`);
    const bytes = pack(payload);
    const copies = this.rng.chance(this.faults.dup) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.rng.int(1, this.faults.maxDelay);
      this.sched.after(delay, () => {
        if (this.isCut(from, to)) return this.trace(`net ${from}→${to} ${what}: cut on arrival`);
        this.trace(`net ${from}→${to} ${what}: arrives${i ? ' (duplicate)' : ''}`);
        arrive(unpack(bytes) as T);
      });
    }
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
