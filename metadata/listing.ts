/**
 * S3 listing over an ordered index whose keys are S + tuple string (S: a packed subspace),
 * written once over range reads so every KV backend lists the same way.
 *
 * - prefix P: only keys in the tuple range of strings starting with P;
 * - delimiter D (any non-empty string): a key whose rest after P contains D rolls up into
 *   the common prefix P + rest up to and including the first D; after emitting it, ONE new
 *   range read starts past every key that has that common prefix;
 * - after A (exclusive): keys > A; when A is itself a common prefix (as `last` of a previous
 *   page can be), every key under it is skipped too;
 * - maxKeys counts keys and common prefixes; isTruncated says whether anything follows.
 */
import type { KvPair, KvReader } from './kv.js';
import { afterStringPrefix, keyAfter, pack, stringPrefixRange, unpackAfter } from './tuple.js';

export interface ListInput {
  prefix?: string;
  delimiter?: string;
  after?: string;
  maxKeys: number;
}

export interface ListEntry<T> {
  key: string;
  value: T;
}

export interface ListResult<T> {
  entries: ListEntry<T>[];
  commonPrefixes: string[];
  isTruncated: boolean;
  last?: string;
}

/** pairs read per range read */
const BATCH = 1000;

/** the common prefix `key` rolls up into, if any */
export function commonPrefixOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter || !key.startsWith(prefix)) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

export async function listIndex<T>(
  tx: KvReader,
  subspace: Buffer,
  input: ListInput,
  decode: (key: string, pair: KvPair) => T,
): Promise<ListResult<T>> {
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter || undefined;
  const result: ListResult<T> = { entries: [], commonPrefixes: [], isTruncated: false };
  const { begin, end } = stringPrefixRange(subspace, prefix);
  let start = begin;
  if (input.after !== undefined) {
    const a = input.after;
    const from =
      commonPrefixOf(a, prefix, delimiter) === a
        ? afterStringPrefix(subspace, a)
        : keyAfter(Buffer.concat([subspace, pack([a])]));
    if (Buffer.compare(from, start) > 0) start = from;
  }
  if (input.maxKeys <= 0) return result;
  let count = 0;
  for (;;) {
    if (Buffer.compare(start, end) >= 0) return result;
    const limit = Math.min(input.maxKeys - count + 1, BATCH);
    const pairs = await tx.getRange(start, end, { limit });
    let jumped = false;
    for (const pair of pairs) {
      const key = unpackAfter(subspace, pair.key)[0] as string;
      if (count === input.maxKeys) {
        result.isTruncated = true;
        return result;
      }
      const cp = commonPrefixOf(key, prefix, delimiter);
      count++;
      if (cp !== undefined) {
        result.commonPrefixes.push(cp);
        result.last = cp;
        start = afterStringPrefix(subspace, cp);
        jumped = true;
        break;
      }
      result.entries.push({ key, value: decode(key, pair) });
      result.last = key;
      start = keyAfter(pair.key);
    }
    if (!jumped && pairs.length < limit) return result;
  }
}
