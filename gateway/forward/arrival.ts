/**
 * A request another region forwarded here names a bucket that region knows (it read the
 * bucket's home or leader from its own record), but what it knows may still be on its way
 * here: a bucket created in iad with `home:sin` and read at once from iad is forwarded to sin
 * before sin has applied the creation, or the bucket's locations. Rather than answer
 * NoSuchBucket for a bucket that exists, or serve a home bucket as if it were global, the
 * receiving region waits a bounded time for the bucket (and, for a home-region forward, for
 * its home setting naming this region) to arrive. The request's body is not read meanwhile
 * (TCP back-pressure holds the client).
 */
import type { Services } from '../context.js';
import { bucketLocations } from '../locations.js';

/** how long a forwarded request waits for its bucket to arrive (then it is served as it is) */
export const ARRIVAL_WAIT_MS = 10_000;
const POLL_MS = 25;

/** `homedHere`: this region's name, when the sender forwarded because the bucket is homed here */
export async function awaitForwardedBucket(svc: Pick<Services, 'layer' | 'configs'>, bucket: string, homedHere?: string, waitMs = ARRIVAL_WAIT_MS): Promise<void> {
  const deadline = Date.now() + waitMs;
  const arrived = async (): Promise<boolean> => {
    const known = await svc.layer.getBucket(bucket).then(
      () => true,
      () => false,
    );
    if (!known || homedHere === undefined) return known;
    const l = await bucketLocations(svc, bucket);
    return l.type === 'home' && l.region === homedHere;
  };
  while (!(await arrived()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
}
