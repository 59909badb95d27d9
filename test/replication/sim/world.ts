/** What the parts of one simulated run share: its chance, its time, its network and regions. */
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

export interface World {
  rng: Rng;
  sched: Scheduler;
  net: Network;
  regions: Map<string, Region>;
  log(line: string): void;
}
