import type { BucketRecord } from '../../metadata/types.js';
import { mayAccessBucket } from '../access.js';
import type { OpContext } from '../context.js';
import { S3Error } from '../errors.js';

/**
 * One page of ListBuckets: `max-buckets` (1..10000; without it every bucket), an opaque
 * `continuation-token` of ours, `prefix` and `bucket-region` filters. Only the buckets the
 * caller may see count toward the page.
 */

const MAX_BUCKETS = 10_000;
/** buckets read from the metadata per range read */
const READ_BATCH = 1000;
const TOKEN_TAG = 'b1:';

export interface BucketsPage {
  buckets: BucketRecord[];
  /** set when more buckets follow: the next request's continuation-token */
  next?: string;
  prefix: string;
}

export function encodeBucketToken(last: string): string {
  return Buffer.from(TOKEN_TAG + last, 'utf8').toString('base64url');
}

export function decodeBucketToken(token: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith(TOKEN_TAG) || text.length === TOKEN_TAG.length || encodeBucketToken(text.slice(TOKEN_TAG.length)) !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token', ArgumentValue: token });
  }
  return text.slice(TOKEN_TAG.length);
}

/** `max-buckets`: undefined when absent (every bucket); InvalidArgument outside 1..10000 */
export function maxBucketsParam(raw: string | null): number | undefined {
  if (raw === null) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_BUCKETS)) {
    throw new S3Error('InvalidArgument', `Argument max-buckets must be an integer between 1 and ${MAX_BUCKETS}`, { ArgumentName: 'max-buckets', ArgumentValue: raw });
  }
  return n;
}

export async function bucketsPage(ctx: OpContext): Promise<BucketsPage> {
  const q = ctx.query;
  const max = maxBucketsParam(q.get('max-buckets'));
  const token = q.get('continuation-token');
  const prefix = q.get('prefix') ?? '';
  const region = q.get('bucket-region') || undefined;
  let after = token ? decodeBucketToken(token) : undefined;
  const out: BucketRecord[] = [];
  // read on until one bucket beyond the page is found (or none is left)
  for (;;) {
    const batch = await ctx.svc.layer.listBucketsPage({ prefix, ...(after !== undefined ? { after } : {}), limit: READ_BATCH });
    for (const b of batch) {
      if (!mayAccessBucket(ctx.auth, b) || (region !== undefined && b.region !== region)) continue;
      if (max !== undefined && out.length === max) return { buckets: out, next: encodeBucketToken(out[out.length - 1]!.name), prefix };
      out.push(b);
    }
    if (batch.length < READ_BATCH) return { buckets: out, prefix };
    after = batch[batch.length - 1]!.name;
  }
}
