/**
 * Value encodings of the object layer's records (msgpack). Version records leave out what the
 * key already says (bucket, object key) and the inline body bytes, which live under their own
 * key so a listing page never reads object bodies.
 */
import { Packr } from 'msgpackr';
import type { AccessKeyRecord, BucketRecord, ObjectVersion } from './types.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

/** a stored version: short field names keep it small */
interface StoredVersion {
  id: string;
  w: number;
  l: number;
  r: string;
  dm?: true;
  sz: number;
  et: string;
  lm: number;
  o: string;
  h: ObjectVersion['headers'];
  m: Record<string, string>;
  cs: ObjectVersion['checksums'];
  /** 'i' inline (bytes under their own key), 'b' blob, 'p' multipart parts, 'x' in another region */
  bk?: 'i' | 'b' | 'p' | 'x';
  /** the region holding an 'x' body */
  rg?: string;
  /** upload id and part count of a 'p' body */
  up?: string;
  pc?: number;
  bl?: string;
  nd?: string;
  /** S3's 'null' version (written unversioned or suspended) */
  nl?: true;
  tg?: Record<string, string>;
  /** ObjectVersion.keptIn */
  ki?: string[];
}

export function encodeVersion(v: ObjectVersion): Buffer {
  const s: StoredVersion = {
    id: v.versionId,
    w: v.hlc.wall,
    l: v.hlc.logical,
    r: v.region,
    sz: v.size,
    et: v.etag,
    lm: v.lastModified,
    o: v.owner,
    h: v.headers,
    m: v.userMetadata,
    cs: v.checksums,
  };
  if (v.deleteMarker) s.dm = true;
  if (v.isNull) s.nl = true;
  if (v.tags && Object.keys(v.tags).length) s.tg = v.tags;
  if (v.keptIn?.length) s.ki = v.keptIn;
  if (v.body?.kind === 'inline') s.bk = 'i';
  else if (v.body?.kind === 'blob') Object.assign(s, { bk: 'b', bl: v.body.blobId, nd: v.body.node });
  else if (v.body?.kind === 'parts') Object.assign(s, { bk: 'p', up: v.body.uploadId, pc: v.body.partCount });
  else if (v.body?.kind === 'remote') Object.assign(s, { bk: 'x', rg: v.body.region });
  return encode(s);
}

/** the decoded version; an inline body has no bytes yet (`inline` true: fetch them) */
export interface DecodedVersion {
  version: ObjectVersion;
  inline: boolean;
}

export function decodeVersion(bucket: string, key: string, bytes: Uint8Array): DecodedVersion {
  const s = decode<StoredVersion>(bytes);
  const version: ObjectVersion = {
    bucket,
    key,
    versionId: s.id,
    hlc: { wall: s.w, logical: s.l },
    region: s.r,
    deleteMarker: !!s.dm,
    size: s.sz,
    etag: s.et,
    lastModified: s.lm,
    owner: s.o,
    headers: s.h ?? {},
    userMetadata: s.m ?? {},
    checksums: s.cs ?? {},
  };
  if (s.nl) version.isNull = true;
  if (s.tg) version.tags = s.tg;
  if (s.ki) version.keptIn = s.ki;
  if (s.bk === 'b') version.body = { kind: 'blob', blobId: s.bl!, node: s.nd! };
  else if (s.bk === 'p') version.body = { kind: 'parts', uploadId: s.up!, partCount: s.pc! };
  else if (s.bk === 'x') version.body = { kind: 'remote', region: s.rg! };
  return { version, inline: s.bk === 'i' };
}

export const encodeBucket = (b: BucketRecord): Buffer => encode(b);
export const decodeBucket = (bytes: Uint8Array): BucketRecord => decode<BucketRecord>(bytes);
export const encodeAccessKey = (k: AccessKeyRecord): Buffer => encode(k);
export const decodeAccessKey = (bytes: Uint8Array): AccessKeyRecord => decode<AccessKeyRecord>(bytes);
