/**
 * Which region executes an S3 request for a bucket, when that is not the region it arrived at:
 *
 * - a bucket whose locations are `home:R` (metadata/bucket-locations.ts) is served by R alone:
 *   every request for it, whatever the operation, goes there, so it reads as one region would;
 * - a request that asks for strong consistency (`X-Tigris-Consistent: true`, or its twin
 *   `x-erne-consistent`, or a bucket made consistent by default with `erne buckets update
 *   --consistent`) on an object operation is executed by the key's leader, the bucket's home
 *   region (replication/bucket-home.ts). One region deciding every such write and read of a
 *   key makes them linearizable, and its conditional writes (If-Match, If-None-Match: *),
 *   atomic in one region's metadata transaction, a compare-and-swap across all regions.
 *   `X-Tigris-Consistent: false` opts a request out of a consistent bucket's default.
 *
 * A request another region forwarded is served where it arrives (the caller checks that
 * first), so two regions that briefly disagree on a bucket's home do not bounce it forever.
 */
import type { BucketConfigStore } from '../../metadata/bucket-config.js';
import { CONSISTENT_KIND, LOCATIONS_KIND, type BucketLocations } from '../../metadata/bucket-locations.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { BucketRecord } from '../../metadata/types.js';
import { header, type Headers } from '../context.js';

/**
 * Deadlines of a routed forward: a leader that does not take the connection, or has not
 * begun to answer 10 s after the whole request went to it, is taken as unreachable (a 503 that
 * says so), rather than leaving the client waiting for the idle timeout.
 */
export const ROUTE_TIMEOUTS = { connectTimeoutMs: 2_000, answerTimeoutMs: 10_000 } as const;

export const CONSISTENT_HEADERS = ['x-tigris-consistent', 'x-erne-consistent'] as const;

/**
 * The operations a consistent request may name. CreateMultipartUpload is among them so the
 * upload lives in the leader: its parts and its completion are then forwarded there too
 * (gateway/forward/upload-owner.ts), and the completion's conditions are checked there.
 */
const CONSISTENT_OPS: ReadonlySet<string> = new Set([
  'PutObject', 'GetObject', 'HeadObject', 'DeleteObject', 'CopyObject', 'CreateMultipartUpload', 'CompleteMultipartUpload',
]);

/** operations about no one bucket, or about a bucket that does not exist yet */
const NOT_ROUTED: ReadonlySet<string> = new Set(['ListBuckets', 'CreateBucket']);

export interface BucketRoute {
  region: string;
  why: 'home' | 'consistent';
}

export interface RouteView {
  /** this region */
  region: string;
  /** the cluster's regions */
  regions: readonly string[];
  configs: Pick<BucketConfigStore, 'get'>;
  layer: Pick<ObjectLayer, 'getBucket'>;
  /** the bucket's home region (replication/bucket-home.ts) */
  homeOf: (bucket: BucketRecord) => string;
}

/** true / false as the request says; undefined when it says nothing (or something else) */
export function asksConsistent(h: Headers): boolean | undefined {
  for (const name of CONSISTENT_HEADERS) {
    const v = header(h, name)?.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return undefined;
}

/** the other region that executes this request, or undefined: serve it here */
export async function bucketRoute(v: RouteView, r: { bucket: string; op: string; headers: Headers }): Promise<BucketRoute | undefined> {
  if (NOT_ROUTED.has(r.op)) return undefined;
  const locations = await v.configs.get<BucketLocations>(r.bucket, LOCATIONS_KIND);
  // a home the cluster does not have (a region removed since) leaves the bucket to be served anywhere
  if (locations?.type === 'home' && v.regions.includes(locations.region)) {
    return locations.region === v.region ? undefined : { region: locations.region, why: 'home' };
  }
  if (!CONSISTENT_OPS.has(r.op)) return undefined;
  const wants = asksConsistent(r.headers) ?? (await v.configs.get<boolean>(r.bucket, CONSISTENT_KIND)) === true;
  if (!wants) return undefined;
  // no such bucket here: answered here (NoSuchBucket), as the bucket's creation may not have arrived
  const record = await v.layer.getBucket(r.bucket).catch(() => undefined);
  if (!record) return undefined;
  const leader = v.homeOf(record);
  return leader === v.region ? undefined : { region: leader, why: 'consistent' };
}

/** the 503's message when the region that executes the request cannot be reached */
export function unreachableMessage(route: BucketRoute, bucket: string): string {
  return route.why === 'home'
    ? `Bucket ${bucket} is served by its home region ${route.region}, which cannot be reached now.`
    : `This consistent request is executed by bucket ${bucket}'s leader region ${route.region}, which cannot be reached now; requests without X-Tigris-Consistent are still served here.`;
}
