/**
 * ListMultipartUploads across the cluster. An upload's records stay in the region that created
 * it (metadata/upload-id.ts), so the region asked lists its own uploads and asks every other
 * region for its uploads of the bucket from the same prefix, delimiter and markers:
 *
 *   POST /.erne/internal/replication/uploads   msgpack UploadsQuery → 200 msgpack UploadsAnswer
 *
 * signed with the cluster secret (gateway/internal-replication.ts answers it). Each region
 * gives at most maxUploads + 1 entries, uploads and common prefixes in one key order, and the
 * pages are merged by metadata/upload-merge.ts. A region that does not answer fails the whole
 * listing (RegionUnreachable): never a silently partial one.
 */
import type { ListUploadsInput, ListUploadsPage } from '../metadata/multipart-list.js';
import type { UploadRecord } from '../metadata/multipart-records.js';
import { mergeUploadPages, pageEntries, type UploadEntry } from '../metadata/upload-merge.js';
import { ClusterCaller, RegionUnreachable } from './cluster-call.js';
import { peersOf, type Topology } from './topology.js';

export const UPLOADS_PATH = '/.erne/internal/replication/uploads';

export type UploadsQuery = ListUploadsInput;

export interface UploadsAnswer {
  entries: UploadEntry[];
}

/** what another region needs of an upload to list it (no part state, no pending object) */
function listed(u: UploadRecord): UploadRecord {
  const out: UploadRecord = { bucket: u.bucket, key: u.key, uploadId: u.uploadId, initiated: u.initiated, owner: u.owner, headers: {}, userMetadata: {}, state: 'open' };
  if (u.storageClass !== undefined) out.storageClass = u.storageClass;
  if (u.checksumAlgorithm !== undefined) out.checksumAlgorithm = u.checksumAlgorithm;
  if (u.checksumType !== undefined) out.checksumType = u.checksumType;
  return out;
}

/** the query as the wire carries it, checked (a malformed one throws) */
export function parseUploadsQuery(raw: unknown): UploadsQuery {
  const q = raw as Record<string, unknown>;
  if (typeof q !== 'object' || q === null) throw new Error('not an object');
  const str = (name: string, optional = true): string | undefined => {
    const v = q[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') throw new Error(`${name} is not a string`);
    return v;
  };
  const bucket = str('bucket', false)!;
  const max = q.maxUploads;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 1001) throw new Error('maxUploads is not an integer in 0..1001');
  const out: UploadsQuery = { bucket, maxUploads: max };
  for (const name of ['prefix', 'delimiter', 'keyMarker', 'uploadIdMarker'] as const) {
    const v = str(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** this region's answer to another region's query */
export async function answerUploadsQuery(list: (input: ListUploadsInput) => Promise<ListUploadsPage>, query: UploadsQuery): Promise<UploadsAnswer> {
  const page = await list(query);
  return { entries: pageEntries(page).map((e) => ('prefix' in e ? e : { upload: listed(e.upload) })) };
}

export interface ClusterUploadLister {
  list(input: ListUploadsInput): Promise<ListUploadsPage>;
  /** drops the kept-alive connections to the other regions */
  close(): void;
}

/**
 * The cluster-wide listing: this region's page (from `local`) and every other region's, asked
 * for maxUploads + 1 entries each, merged. Rejects with RegionUnreachable naming a region that
 * did not answer (or answered anything but its entries).
 */
export function clusterUploadLister(topology: Topology, local: (input: ListUploadsInput) => Promise<ListUploadsPage>, timeoutMs = 10_000): ClusterUploadLister {
  const caller = new ClusterCaller(topology, timeoutMs);
  const others = peersOf(topology).map((r) => r.name);
  const list = async (input: ListUploadsInput): Promise<ListUploadsPage> => {
    if (input.maxUploads <= 0) return local(input);
    const query: UploadsQuery = { ...input, maxUploads: input.maxUploads + 1 };
    const ask = async (region: string): Promise<UploadEntry[]> => {
      const r = await caller.call(region, UPLOADS_PATH, query);
      const body = r.body as UploadsAnswer | undefined;
      if (r.status !== 200 || !body || !Array.isArray(body.entries)) {
        throw new RegionUnreachable(region, `it answered ${r.status}${typeof r.body === 'string' ? ` ${r.body.trim()}` : ''}`);
      }
      return body.entries;
    };
    const pages = await Promise.allSettled([local(query).then(pageEntries), ...others.map(ask)]);
    const failed = pages.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
    return mergeUploadPages(
      pages.map((p) => (p as PromiseFulfilledResult<UploadEntry[]>).value),
      input.maxUploads,
    );
  };
  return { list, close: () => caller.close() };
}
