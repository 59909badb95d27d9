/**
 * Key layout and records of multipart uploads (tuple-encoded, metadata/tuple.ts):
 *
 *   ('u', bucket, key, uploadId)         → UploadRecord of an upload in progress (deleting
 *                                          the bucket aborts them: metadata/bucket-drop.ts)
 *   ('p', uploadId, partNumber)          → PartRecord, one per part (never one record for all)
 *   ('r', blobId, '#part', uploadId, n)  → the part's blob reference, in the object layer's
 *                                          'r' subspace so isBlobReferenced stays one range
 *                                          read ('#' never occurs in a bucket name)
 *   ('pf', uploadId, ordinal)            → PartIndexEntry of a completed object: its parts in
 *                                          order with their byte offsets (ordinal 1..count)
 *   ('ud', uploadId)                     → CompletedRecord: the upload was committed (answers
 *                                          a retried CompleteMultipartUpload)
 *   ('mr', uploadId)                     → release queue: every part of the upload is to be
 *                                          freed by the janitor (abort, or its version dropped)
 *   ('mt', uploadId)                     → trim queue: parts not named by the completion
 *                                          (their `token` differs from the value) are freed
 *   ('g', blobId)                        → the object layer's garbage queue, which freed part
 *                                          blobs join
 */
import type { TupleItem } from 'fdb-tuple';
import { decode, encode } from './records.js';
import { pack, subspaceRange } from './tuple.js';
import type { ChecksumAlgorithm, ChecksumSet, ObjectHeaders } from './types.js';

export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

export interface UploadRecord {
  bucket: string;
  key: string;
  uploadId: string;
  /** ms since epoch */
  initiated: number;
  owner: string;
  headers: ObjectHeaders;
  userMetadata: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  /** the x-amz-tagging header given at creation, applied at completion */
  tagging?: string;
  storageClass?: string;
  /**
   * open: parts may be uploaded. completing: a completion holding `token` validates and
   * indexes the parts (parts are frozen while its lease lasts, see `leasedAt`). committing:
   * the index is written and `pending` is the version being committed.
   */
  state: 'open' | 'completing' | 'committing';
  token?: string;
  /**
   * While completing: when the completion took or last renewed its lease (ms since epoch).
   * A lease older than the layer's bound belongs to a completion that died; the upload counts
   * as open again. Records written before leases existed lack it: their lease has lapsed.
   */
  leasedAt?: number;
  pending?: PendingObject;
}

/** what the completion commits, kept so a retry after a crash commits the same thing */
export interface PendingObject {
  size: number;
  etag: string;
  checksums: ChecksumSet;
  partCount: number;
}

export interface PartRecord {
  partNumber: number;
  size: number;
  /** hex md5 */
  etag: string;
  /** absent for an empty part */
  blobId?: string;
  node?: string;
  checksums: ChecksumSet;
  lastModified: number;
  /** the completion token that named this part (set while completing) */
  token?: string;
}

export interface PartIndexEntry {
  ordinal: number;
  partNumber: number;
  offset: number;
  size: number;
  blobId?: string;
  node?: string;
}

export interface CompletedRecord {
  bucket: string;
  key: string;
  etag: string;
  versionId: string;
  checksums: ChecksumSet;
  checksumType?: ChecksumType;
}

export const PART_REF = '#part';

export const kUpload = (bucket: string, key: string, uploadId: string) => pack(['u', bucket, key, uploadId]);
export const kPart = (uploadId: string, n: number) => pack(['p', uploadId, n]);
export const kPartRef = (blobId: string, uploadId: string, n: number) => pack(['r', blobId, PART_REF, uploadId, n]);
export const kIndex = (uploadId: string, ordinal: number) => pack(['pf', uploadId, ordinal]);
export const kDone = (uploadId: string) => pack(['ud', uploadId]);
export const kRelease = (uploadId: string) => pack(['mr', uploadId]);
export const kTrim = (uploadId: string) => pack(['mt', uploadId]);
export const kGarbage = (blobId: string) => pack(['g', blobId]);
export const range = (items: TupleItem[]) => subspaceRange(items);

// short field names keep the records small (10,000 part records per upload)

export function encodeUpload(u: UploadRecord): Buffer {
  const { bucket: _b, key: _k, uploadId: _u, ...rest } = u;
  return encode(rest);
}

/** a completing upload whose completion stopped renewing its lease `leaseMs` ago or more */
export function leaseLapsed(u: UploadRecord, now: number, leaseMs: number): boolean {
  return u.state === 'completing' && now - (u.leasedAt ?? 0) >= leaseMs;
}

/** the upload as open again: no token, no lease (what a lapsed completion leaves) */
export function reopened(u: UploadRecord): UploadRecord {
  const { token: _t, leasedAt: _l, pending: _p, ...rest } = u;
  return { ...rest, state: 'open' };
}

export function decodeUpload(bucket: string, key: string, uploadId: string, bytes: Uint8Array): UploadRecord {
  return { bucket, key, uploadId, ...decode<Omit<UploadRecord, 'bucket' | 'key' | 'uploadId'>>(bytes) };
}

interface StoredPart {
  sz: number;
  et: string;
  b?: string;
  n?: string;
  cs: ChecksumSet;
  lm: number;
  t?: string;
}

export function encodePart(p: PartRecord): Buffer {
  const s: StoredPart = { sz: p.size, et: p.etag, cs: p.checksums, lm: p.lastModified };
  if (p.blobId) Object.assign(s, { b: p.blobId, n: p.node });
  if (p.token) s.t = p.token;
  return encode(s);
}

export function decodePart(partNumber: number, bytes: Uint8Array): PartRecord {
  const s = decode<StoredPart>(bytes);
  const p: PartRecord = { partNumber, size: s.sz, etag: s.et, checksums: s.cs ?? {}, lastModified: s.lm };
  if (s.b) Object.assign(p, { blobId: s.b, node: s.n });
  if (s.t) p.token = s.t;
  return p;
}

export function encodeIndex(e: PartIndexEntry): Buffer {
  return encode([e.partNumber, e.offset, e.size, e.blobId ?? '', e.node ?? '']);
}

export function decodeIndex(ordinal: number, bytes: Uint8Array): PartIndexEntry {
  const [partNumber, offset, size, blobId, node] = decode<[number, number, number, string, string]>(bytes);
  const e: PartIndexEntry = { ordinal, partNumber, offset, size };
  if (blobId) Object.assign(e, { blobId, node });
  return e;
}

export const encodeDone = (d: CompletedRecord): Buffer => encode(d);
export const decodeDone = (bytes: Uint8Array): CompletedRecord => decode<CompletedRecord>(bytes);
