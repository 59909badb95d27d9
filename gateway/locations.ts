/**
 * A bucket's locations as the gateway reads them (metadata/bucket-locations.ts): the stored
 * setting, and the `X-Tigris-Regions` / `x-erne-regions` request header that sets it on
 * CreateBucket and, for one write, on PutObject.
 */
import { formatLocations, LOCATIONS_KIND, parseLocations, storedLocations, type BucketLocations } from '../metadata/bucket-locations.js';

export { storedLocations };
import type { Headers, Services } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';

/** the response header that reports a bucket's locations (GetBucketLocation, HeadBucket) */
export const LOCATIONS_HEADER = 'x-erne-locations';

/** the locations a request asks for, or undefined; InvalidArgument naming the bad part */
export function requestedLocations(svc: Pick<Services, 'regions'>, headers: Headers): BucketLocations | undefined {
  const name = headers['x-tigris-regions'] !== undefined ? 'X-Tigris-Regions' : 'x-erne-regions';
  const text = header(headers, 'x-tigris-regions') ?? header(headers, 'x-erne-regions');
  if (text === undefined) return undefined;
  const parsed = parseLocations(text, svc.regions);
  if ('error' in parsed) throw new S3Error('InvalidArgument', `${name}: ${parsed.error}.`, { ArgumentName: name, ArgumentValue: text });
  return parsed;
}

export async function bucketLocations(svc: { configs: Pick<Services['configs'], 'get'> }, bucket: string): Promise<BucketLocations> {
  return storedLocations(await svc.configs.get<unknown>(bucket, LOCATIONS_KIND));
}

/** stored in its text form (`global` removes the setting: global is what none means) */
export async function setBucketLocations(svc: Pick<Services, 'configs'>, bucket: string, l: BucketLocations): Promise<void> {
  if (l.type === 'global') await svc.configs.delete(bucket, LOCATIONS_KIND);
  else await svc.configs.put(bucket, LOCATIONS_KIND, formatLocations(l));
}
