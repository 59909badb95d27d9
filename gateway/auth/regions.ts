/**
 * Which SigV4 regions a gateway answers for. Clients sign for a region; S3 refuses a
 * signature for any region but the bucket's and names the one expected, so a client
 * configured for the wrong region learns which to use (s3cmd even retries with it).
 */
import { S3Error } from '../errors.js';

/** `auto` is what Tigris-style apps send, `us-east-1` what SDKs default to: both always pass. */
export const UNIVERSAL_REGIONS: readonly string[] = ['us-east-1', 'auto'];

export interface SigningRegions {
  /** the region named when a signature's region is refused: this gateway's own */
  expected: string;
  accepted: ReadonlySet<string>;
}

/** This gateway's own region, the universal ones, and `others` (the regions of its cluster). */
export function signingRegions(own: string, others: readonly string[] = []): SigningRegions {
  return { expected: own, accepted: new Set([own, ...UNIVERSAL_REGIONS, ...others]) };
}

/** "local, us-east-1 or auto": what a client of the region `own` may sign for, for people */
export function regionsToSignFor(own: string): string {
  const all = [own, ...UNIVERSAL_REGIONS.filter((r) => r !== own)];
  return `${all.slice(0, -1).join(', ')} or ${all.at(-1)}`;
}

/** The error for a refused region, in the style of header or query authentication. */
export function wrongRegion(region: string, regions: SigningRegions, presigned: boolean): S3Error {
  const detail = `the region '${region}' is wrong; expecting '${regions.expected}'`;
  return presigned
    ? new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${detail}`, { Region: regions.expected })
    : new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`, { Region: regions.expected });
}
