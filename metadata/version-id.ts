/**
 * Version ids: plain strings that sort NEWEST-FIRST, so a range read over a key's versions
 * meets the current one first. An id carries the version's HLC and writing region:
 *
 *   12 hex digits  (2^48 - 1 - wall ms)
 *    8 hex digits  (2^32 - 1 - logical)
 *   2 hex digits per byte of (UTF-8 region + 0x00), each byte inverted (255 - b)
 *
 * Every part is inverted, so a greater (hlc, region) gives a smaller string; the 0x00
 * terminator (inverted: "ff") makes a region sort after its own extensions, as required.
 * Only [0-9a-f]: url-safe, and string order equals byte order.
 */
import type { Hlc } from './types.js';

const MAX_WALL = 2 ** 48 - 1;
const MAX_LOGICAL = 2 ** 32 - 1;

export function makeVersionId(hlc: Hlc, region: string): string {
  if (!Number.isInteger(hlc.wall) || hlc.wall < 0 || hlc.wall > MAX_WALL) throw new RangeError(`bad HLC wall ${hlc.wall}`);
  if (!Number.isInteger(hlc.logical) || hlc.logical < 0 || hlc.logical > MAX_LOGICAL) {
    throw new RangeError(`bad HLC logical ${hlc.logical}`);
  }
  const bytes = Buffer.from(region, 'utf8');
  if (bytes.length === 0 || bytes.includes(0)) throw new RangeError('a region name is non-empty and has no NUL');
  let out = (MAX_WALL - hlc.wall).toString(16).padStart(12, '0') + (MAX_LOGICAL - hlc.logical).toString(16).padStart(8, '0');
  for (const b of bytes) out += (255 - b).toString(16).padStart(2, '0');
  return out + 'ff';
}

export function parseVersionId(id: string): { hlc: Hlc; region: string } | undefined {
  if (!/^[0-9a-f]+$/.test(id) || id.length < 24 || id.length % 2 !== 0 || !id.endsWith('ff')) return undefined;
  const wall = MAX_WALL - parseInt(id.slice(0, 12), 16);
  const logical = MAX_LOGICAL - parseInt(id.slice(12, 20), 16);
  const bytes = Buffer.from(id.slice(20, -2), 'hex').map((b) => 255 - b);
  if (bytes.includes(0)) return undefined;
  const region = Buffer.from(bytes).toString('utf8');
  if (makeVersionId({ wall, logical }, region) !== id) return undefined;
  return { hlc: { wall, logical }, region };
}
