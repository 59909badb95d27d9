/**
 * Key layout helpers over the FoundationDB tuple encoding (package fdb-tuple), so LMDB and FDB
 * hold byte-identical keys. Tuple encoding preserves order: strings compare by their UTF-8
 * bytes, which is also how S3 orders keys.
 *
 * A string element is encoded as 0x02, its UTF-8 bytes with every 0x00 written as 0x00 0xFF,
 * then 0x00. UTF-8 never contains 0xFF, so within a subspace S every string starting with P
 * lies in [S 0x02 esc(P), S 0x02 esc(P) 0xFF): that is what the prefix helpers below use.
 */
import { pack as tuplePack, unpack as tupleUnpack, type TupleItem } from 'fdb-tuple';

export type { TupleItem };

const STRING_CODE = 0x02;

/** the key of a tuple: pack(['c', bucket, key]) */
export function pack(items: TupleItem[]): Buffer {
  return tuplePack(items);
}

export function unpack(key: Uint8Array): TupleItem[] {
  return tupleUnpack(asBuffer(key));
}

/** the tuple elements after `subspace` (which must be a prefix of key) */
export function unpackAfter(subspace: Uint8Array, key: Uint8Array): TupleItem[] {
  return tupleUnpack(asBuffer(key).subarray(subspace.length));
}

export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** the range of every key that extends the tuple `items` by one or more elements */
export function subspaceRange(items: TupleItem[]): { begin: Buffer; end: Buffer } {
  const p = tuplePack(items);
  return { begin: concat(p, [0x00]), end: concat(p, [0xff]) };
}

/** UTF-8 bytes of s with 0x00 escaped as 0x00 0xFF, as inside a tuple string element */
export function escapeString(s: string): Buffer {
  const raw = Buffer.from(s, 'utf8');
  if (!raw.includes(0)) return raw;
  const out: number[] = [];
  for (const b of raw) {
    out.push(b);
    if (b === 0) out.push(0xff);
  }
  return Buffer.from(out);
}

/**
 * Range of the keys S + string element that start with `prefix`, where S = `subspace`
 * (already packed). The element may be followed by more tuple elements.
 */
export function stringPrefixRange(subspace: Uint8Array, prefix: string): { begin: Buffer; end: Buffer } {
  const begin = Buffer.concat([subspace, Buffer.from([STRING_CODE]), escapeString(prefix)]);
  return { begin, end: concat(begin, [0xff]) };
}

/** the first key after every key S + (string starting with prefix): skips a whole common prefix */
export function afterStringPrefix(subspace: Uint8Array, prefix: string): Buffer {
  return stringPrefixRange(subspace, prefix).end;
}

/** the first key strictly greater than `key` */
export function keyAfter(key: Uint8Array): Buffer {
  return concat(asBuffer(key), [0x00]);
}

/** byte-order comparison of two keys */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function concat(a: Buffer, tail: number[]): Buffer {
  const out = Buffer.allocUnsafe(a.length + tail.length);
  a.copy(out, 0);
  for (let i = 0; i < tail.length; i++) out[a.length + i] = tail[i]!;
  return out;
}
