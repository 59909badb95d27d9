/**
 * A bucket's home region: the region it was created for (its LocationConstraint, or the
 * region that took the CreateBucket), as its record says. Work that must happen once per
 * bucket in the cluster, such as lifecycle expiry, runs there. A bucket whose recorded region
 * the cluster does not have (made before the region joined one) is homed in the control
 * region, so it still has exactly one.
 */
import type { BucketRecord } from '../metadata/types.js';
import { regionInfo, type Topology } from './topology.js';

export function bucketHome(t: Topology, bucket: Pick<BucketRecord, 'region'>): string {
  return regionInfo(t, bucket.region) ? bucket.region : t.control;
}

export function isBucketHome(t: Topology, bucket: Pick<BucketRecord, 'region'>): boolean {
  return bucketHome(t, bucket) === t.self;
}
