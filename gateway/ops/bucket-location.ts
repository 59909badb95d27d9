import type { Services } from '../context.js';
import { S3Error } from '../errors.js';

/**
 * Where a new bucket lives: CreateBucket's LocationConstraint read against the regions of
 * this cluster. S3 reads no constraint, and `us-east-1`, as its default region; here the
 * default is the gateway's own region.
 */

/** the region S3 calls "no constraint" (GetBucketLocation answers it as empty) */
export const DEFAULT_S3_REGION = 'us-east-1';

export interface BucketPlacement {
  region: string;
  /** the request named a LocationConstraint (a re-create of an owned bucket is then a 409) */
  constrained: boolean;
}

/** The LocationConstraint of a CreateBucketConfiguration body ('' for none); MalformedXML. */
export function locationConstraint(doc: Record<string, unknown> | undefined): string {
  if (!doc) return '';
  const conf = doc['CreateBucketConfiguration'];
  if (conf === undefined) throw new S3Error('MalformedXML');
  const loc = typeof conf === 'object' && conf !== null ? (conf as Record<string, unknown>)['LocationConstraint'] : undefined;
  return typeof loc === 'string' ? loc.trim() : '';
}

/** The region the bucket goes to; InvalidLocationConstraint for a region this cluster has not. */
export function placeBucket(svc: Pick<Services, 'region' | 'regions'>, constraint: string): BucketPlacement {
  if (constraint === '' || constraint === DEFAULT_S3_REGION) return { region: svc.region, constrained: constraint !== '' };
  if (!svc.regions.includes(constraint)) {
    throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: constraint });
  }
  return { region: constraint, constrained: true };
}
