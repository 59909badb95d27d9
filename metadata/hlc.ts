/**
 * Hybrid logical clock: wall milliseconds plus a counter, so ids made in one process are
 * strictly increasing even when the wall clock stands still or steps back, and a region that
 * hears of a later remote time never issues an earlier one afterwards.
 */
import type { Hlc } from './types.js';

export type { Hlc };

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wall - b.wall || a.logical - b.logical;
}

export class HybridClock {
  private last: Hlc = { wall: 0, logical: 0 };

  constructor(private readonly wallClock: () => number = Date.now) {}

  /** a timestamp greater than every one this clock issued or was told of */
  now(): Hlc {
    const wall = this.wallClock();
    this.last = wall > this.last.wall ? { wall, logical: 0 } : { wall: this.last.wall, logical: this.last.logical + 1 };
    return this.last;
  }

  /** takes in a timestamp seen from another region; returns the clock's new time */
  update(remote: Hlc): Hlc {
    const wall = Math.max(this.wallClock(), this.last.wall, remote.wall);
    let logical = 0;
    if (wall === this.last.wall && wall === remote.wall) logical = Math.max(this.last.logical, remote.logical) + 1;
    else if (wall === this.last.wall) logical = this.last.logical + 1;
    else if (wall === remote.wall) logical = remote.logical + 1;
    this.last = { wall, logical };
    return this.last;
  }
}
