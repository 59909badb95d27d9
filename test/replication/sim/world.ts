/** What the parts of one simulated run share: its chance, its time, its network and regions. */
import type { Change } from '../../../metadata/changes.js';
import type { BucketRecord } from '../../../metadata/types.js';
import type { Network } from './network.js';
import type { Region } from './region.js';
import type { Rng } from './rng.js';
import type { Scheduler } from './scheduler.js';

export const REGIONS = ['iad', 'fra', 'sin'];

/** every region holds both from the start (bucket changes are not part of this simulation yet) */
export const BUCKETS: Pick<BucketRecord, 'name' | 'versioning'>[] = [
  { name: 'ver', versioning: 'Enabled' },
  { name: 'unv', versioning: 'Unversioned' },
];

/**
 * plain: replication alone; lose: some faults lose messages for good, a repair brings them
 * back at the end; collect: regions collect tombstones while the run goes on (repair.ts)
 */
export type SimMode = 'plain' | 'lose' | 'collect';

export interface World {
  mode: SimMode;
  /** every change a write committed, in commit order (late copies are replayed from here) */
  history: Change[];
  rng: Rng;
  sched: Scheduler;
  net: Network;
  regions: Map<string, Region>;
  log(line: string): void;
}
