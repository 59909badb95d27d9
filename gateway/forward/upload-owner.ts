/**
 * Which region serves a multipart upload request. An upload's records stay in the region that
 * created it, whose name its id carries (metadata/upload-id.ts); UploadPart, UploadPartCopy,
 * ListParts, CompleteMultipartUpload and AbortMultipartUpload arriving elsewhere (a client
 * behind a geo load balancer that moved) are forwarded there, once: a request that already
 * carries the loop guard is served where it is, whatever its id says.
 */
import { uploadIdRegion } from '../../metadata/upload-id.js';
import type { Headers, Services } from '../context.js';
import { resolveOperation } from '../router.js';

/** set on a forwarded request (its value: the forwarding region); such a request is never forwarded again */
export const FORWARDED_FROM = 'x-erne-forwarded-from';
/** set on a forwarded request's response: the region that served it */
export const SERVED_BY_REGION = 'x-erne-served-by-region';

const UPLOAD_OPS: ReadonlySet<string> = new Set(['UploadPart', 'UploadPartCopy', 'ListParts', 'CompleteMultipartUpload', 'AbortMultipartUpload']);

export interface UploadRequest {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers: Headers;
}

export interface UploadOwner {
  region: string;
  /** the operation, as the router names it */
  op: string;
}

/** the other region of this cluster that owns the request's upload, or undefined: serve it here */
export function uploadOwner(svc: Pick<Services, 'region' | 'regions'>, r: UploadRequest): UploadOwner | undefined {
  const uploadId = r.query.get('uploadId');
  if (uploadId === null || !r.bucket || r.key === undefined) return undefined;
  if (r.headers[FORWARDED_FROM] !== undefined) return undefined;
  const region = uploadIdRegion(uploadId);
  // a region the cluster does not have owns nothing: the upload is looked up here (NoSuchUpload)
  if (region === undefined || region === svc.region || !svc.regions.includes(region)) return undefined;
  const op = resolveOperation({ ...r, bucket: r.bucket }).name;
  return UPLOAD_OPS.has(op) ? { region, op } : undefined;
}
