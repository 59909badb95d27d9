/**
 * What "the regions have converged" means to a client, for tests that drive several regions
 * through the SDK: every region lists the same versions (ListObjectVersions: keys, version
 * ids, ETags, sizes, which is latest, delete markers) and the same keys (ListObjectsV2), and
 * the listing has stopped changing; then every key's GET returns the same bytes everywhere.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectVersionsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { bodyBytes } from '../helpers/gateway.js';

export const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('hex');

export interface Listing {
  /** [key, version id, ETag, size, latest] per version and [key, version id, 'marker', latest] per delete marker, in listing order */
  versions: string[];
  /** [key, ETag, size] per current object */
  current: string[];
}

export async function listing(s3: S3Client, bucket: string): Promise<Listing> {
  const versions: string[] = [];
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker, MaxKeys: 1000 }));
    // versions and markers of one key interleave newest-first: merge them back in that order
    const rows = [
      ...(page.Versions ?? []).map((v) => ({ key: v.Key!, id: v.VersionId!, row: `${v.Key} ${v.VersionId} ${v.ETag} ${v.Size} ${v.IsLatest}` })),
      ...(page.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, id: m.VersionId!, row: `${m.Key} ${m.VersionId} marker ${m.IsLatest}` })),
    ];
    rows.sort((a, b) => (a.key === b.key ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.key < b.key ? -1 : 1));
    versions.push(...rows.map((r) => r.row));
    if (!page.IsTruncated) break;
    KeyMarker = page.NextKeyMarker;
    VersionIdMarker = page.NextVersionIdMarker;
  }
  const current: string[] = [];
  let ContinuationToken: string | undefined;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
    current.push(...(page.Contents ?? []).map((o) => `${o.Key} ${o.ETag} ${o.Size}`));
    if (!page.IsTruncated) break;
    ContinuationToken = page.NextContinuationToken;
  }
  return { versions, current };
}

export interface Converged {
  listing: Listing;
  /** ms from the call until the regions agreed */
  ms: number;
  polls: number;
}

/**
 * Waits for quiescence: every region's outbox empty (nothing on its way to another region),
 * and every region's listing of `bucket` the same, over `stable` polls in a row, within
 * `timeoutMs`. A region that cannot answer a poll (restarting) just makes that poll not count.
 */
export async function waitConverged(
  regions: { name: string; s3: S3Client; outboxDepth(): Promise<number> }[],
  bucket: string,
  opts: { timeoutMs?: number; stable?: number; everyMs?: number } = {},
): Promise<Converged> {
  const start = Date.now();
  const deadline = start + (opts.timeoutMs ?? 60_000);
  const stable = opts.stable ?? 2;
  let previous: string | undefined;
  let agreedPolls = 0;
  let polls = 0;
  let last: string[] = [];
  for (;;) {
    polls += 1;
    const depths = await Promise.all(regions.map((r) => r.outboxDepth()));
    const all = await Promise.all(regions.map((r) => listing(r.s3, bucket).catch((e: Error) => e)));
    const texts = all.map((l) => (l instanceof Error ? `error: ${l.name} ${l.message}` : JSON.stringify(l)));
    last = depths.map((d, i) => `${regions[i]!.name} outbox ${d}`);
    const agree = depths.every((d) => d === 0) && all.every((l) => !(l instanceof Error)) && texts.every((t) => t === texts[0]);
    agreedPolls = agree && texts[0] === previous ? agreedPolls + 1 : agree ? 1 : 0;
    previous = agree ? texts[0] : undefined;
    if (agreedPolls >= stable) return { listing: all[0] as Listing, ms: Date.now() - start, polls };
    if (Date.now() > deadline) {
      const diff = regions.map((r, i) => `${r.name}: ${summarize(all[i]!)}`).join('\n');
      throw new Error(`${bucket}: the regions did not converge within ${(opts.timeoutMs ?? 60_000) / 1000} s (${polls} polls; ${last.join(', ')}); last listings:\n${diff}`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}

function summarize(l: Listing | Error): string {
  if (l instanceof Error) return `${l.name}: ${l.message}`;
  return `${l.versions.length} versions, ${l.current.length} current\n  ${l.versions.join('\n  ')}`;
}

/** the bytes of bucket/key (a version of it), or 'missing' (NoSuchKey, or a delete marker) */
export async function getBytes(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer | 'missing'> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return await bodyBytes(got.Body);
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'NoSuchKey' || name === 'MethodNotAllowed') return 'missing';
    throw err;
  }
}
