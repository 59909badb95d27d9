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
 * Requests naming a multipart upload are served by the region the upload lives in, whatever
 * the bucket says: its parts are there. An upload created with the header lives in the leader.
 *
 * A consistent request for a bucket this region does not know yet (made moments ago in
 * another region) goes to the control region, which decided the bucket's creation and so has
 * its record, and which sends it on to the leader. That is the one second hop: any other
 * request another region forwarded is served where it arrives (the caller checks that), so
 * two regions that briefly disagree on a bucket's home do not bounce it around.
 */
import type { BucketConfigStore } from '../../metadata/bucket-config.js';
import { CONSISTENT_KIND } from '../../metadata/bucket-locations.js';
import { bucketLocations } from '../locations.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { BucketRecord } from '../../metadata/types.js';
import { header, type Headers } from '../context.js';

/**
 * Deadlines of a routed forward: a leader that does not take the connection within 2 s, or has
 * not begun to answer 3 s after the whole request went to it and then does not answer a ping
 * within 10 s more, is taken as unreachable (a 503 that says so) rather than leaving the client
 * waiting for the idle timeout. A leader that answers the ping is only busy: it is waited for
 * (the ping's allowance is generous, as a loaded machine answers late but answers).
 */
export const ROUTE_TIMEOUTS = { connectTimeoutMs: 2_000, probeAfterMs: 3_000, pingTimeoutMs: 10_000 } as const;

export const CONSISTENT_HEADERS = ['x-tigris-consistent', 'x-erne-consistent'] as const;

/**
 * The operations a consistent request may name (beside CompleteMultipartUpload, which names
 * its upload and is served where that lives). CreateMultipartUpload is among them so the
 * upload lives in the leader: its parts and its completion are then forwarded there too
 * (gateway/forward/upload-owner.ts), and the completion's conditions are checked there.
 */
const CONSISTENT_OPS: ReadonlySet<string> = new Set(['PutObject', 'GetObject', 'HeadObject', 'DeleteObject', 'CopyObject', 'CreateMultipartUpload']);

/** operations about no one bucket, or about a bucket that does not exist yet */
const NOT_ROUTED: ReadonlySet<string> = new Set(['ListBuckets', 'CreateBucket']);

export interface BucketRoute {
  region: string;
  /** `unknown`: a consistent request for a bucket this region does not know yet, sent to the control region */
  why: 'home' | 'consistent' | 'unknown';
}

export interface RouteView {
  /** this region */
  region: string;
  /** the cluster's regions */
  regions: readonly string[];
  /** the region that decides bucket creation (replication/topology.ts) */
  control: string;
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
export async function bucketRoute(v: RouteView, r: { bucket: string; op: string; headers: Headers; uploadId?: string | null }): Promise<BucketRoute | undefined> {
  if (NOT_ROUTED.has(r.op)) return undefined;
  // an upload's requests are served where the upload lives (forward/upload-owner.ts): its parts are there
  if (typeof r.uploadId === 'string') return undefined;
  const locations = await bucketLocations(v, r.bucket);
  // a home the cluster does not have (a region removed since) leaves the bucket to be served anywhere
  if (locations.type === 'home' && v.regions.includes(locations.region)) {
    return locations.region === v.region ? undefined : { region: locations.region, why: 'home' };
  }
  if (!CONSISTENT_OPS.has(r.op)) return undefined;
  const wants = asksConsistent(r.headers) ?? (await v.configs.get<boolean>(r.bucket, CONSISTENT_KIND)) === true;
  if (!wants) return undefined;
  const record = await v.layer.getBucket(r.bucket).catch(() => undefined);
  // not here (yet): the control region knows every bucket; if it has none, it answers NoSuchBucket
  const leader = record ? v.homeOf(record) : v.control;
  return leader === v.region ? undefined : { region: leader, why: record ? 'consistent' : 'unknown' };
}

/** the 503's message when the region that executes the request cannot be reached */
export function unreachableMessage(route: BucketRoute, bucket: string): string {
  switch (route.why) {
    case 'home':
      return `Bucket ${bucket} is served by its home region ${route.region}, which cannot be reached now.`;
    case 'consistent':
      return `This consistent request is executed by bucket ${bucket}'s leader region ${route.region}, which cannot be reached now; requests without X-Tigris-Consistent are still served here.`;
    case 'unknown':
      return `This consistent request names bucket ${bucket}, which this region does not know yet, and the control region ${route.region}, which knows every bucket, cannot be reached now.`;
  }
}
