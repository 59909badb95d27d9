/**
 * Version ids: plain strings that sort NEWEST-FIRST, so a range read over a key's versions
 * meets the current one first. An id carries the version's HLC, writing region and, when
 * several processes write for one region, the writing process:
 *
 *   12 hex digits  (2^48 - 1 - wall ms)
 *    8 hex digits  (2^32 - 1 - logical)
 *   2 hex digits per byte of (UTF-8 region + 0x00), each byte inverted (255 - b)
 *   optionally: 2 hex digits per byte of (writer + 0x00), inverted the same way
 *
 * Every part is inverted, so a greater (hlc, region, writer) gives a smaller string; the 0x00
 * terminator (inverted: "ff") makes a name sort after its own extensions, as required, and
 * ends the region unambiguously (no other byte of an inverted name is "ff"). Only [0-9a-f]:
 * url-safe, and string order equals byte order.
 *
 * Why a writer: each process has its own HLC, so two gateway processes of one region could
 * make the same (hlc, region) for one key in the same millisecond. The writer (node id and
 * worker, set once per process by the gateway) keeps such ids distinct. Ids without one stay
 * valid (and are what unit tests and single-process tools make).
 */
import type { Hlc } from './types.js';

const MAX_WALL = 2 ** 48 - 1;
const MAX_LOGICAL = 2 ** 32 - 1;
/** a writer is short and plain: it is repeated in every version id */
const WRITER = /^[A-Za-z0-9._-]{1,32}$/;

let processWriter: string | undefined;

/** the writer used when makeVersionId is given none; a gateway sets it once at start */
export function setVersionIdWriter(writer: string | undefined): void {
  if (writer !== undefined) checkWriter(writer);
  processWriter = writer;
}

export function getVersionIdWriter(): string | undefined {
  return processWriter;
}

function checkWriter(writer: string): void {
  if (!WRITER.test(writer)) throw new RangeError(`a version writer is 1-32 of [A-Za-z0-9._-], got ${JSON.stringify(writer)}`);
}

function invertedName(name: string): string {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) out += (255 - b).toString(16).padStart(2, '0');
  return out + 'ff';
}

/** `writer`: omitted → this process's writer (if set); null → none */
export function makeVersionId(hlc: Hlc, region: string, writer?: string | null): string {
  return format(hlc, region, writer === undefined ? processWriter : (writer ?? undefined));
}

function format(hlc: Hlc, region: string, writer: string | undefined): string {
  if (!Number.isInteger(hlc.wall) || hlc.wall < 0 || hlc.wall > MAX_WALL) throw new RangeError(`bad HLC wall ${hlc.wall}`);
  if (!Number.isInteger(hlc.logical) || hlc.logical < 0 || hlc.logical > MAX_LOGICAL) {
    throw new RangeError(`bad HLC logical ${hlc.logical}`);
  }
  const bytes = Buffer.from(region, 'utf8');
  if (bytes.length === 0 || bytes.includes(0)) throw new RangeError('a region name is non-empty and has no NUL');
  if (writer !== undefined) checkWriter(writer);
  const clock = (MAX_WALL - hlc.wall).toString(16).padStart(12, '0') + (MAX_LOGICAL - hlc.logical).toString(16).padStart(8, '0');
  return clock + invertedName(region) + (writer === undefined ? '' : invertedName(writer));
}

export interface ParsedVersionId {
  hlc: Hlc;
  region: string;
  /** present only on ids that carry one */
  writer?: string;
}

export function parseVersionId(id: string): ParsedVersionId | undefined {
  if (!/^[0-9a-f]+$/.test(id) || id.length < 24 || id.length % 2 !== 0 || !id.endsWith('ff')) return undefined;
  const wall = MAX_WALL - parseInt(id.slice(0, 12), 16);
  const logical = MAX_LOGICAL - parseInt(id.slice(12, 20), 16);
  // the region ends at the first byte-aligned "ff"
  let end = 20;
  while (end < id.length && id.slice(end, end + 2) !== 'ff') end += 2;
  const region = Buffer.from(Buffer.from(id.slice(20, end), 'hex').map((b) => 255 - b)).toString('utf8');
  const rest = id.slice(end + 2);
  const writer = rest ? Buffer.from(Buffer.from(rest.slice(0, -2), 'hex').map((b) => 255 - b)).toString('utf8') : undefined;
  try {
    if (format({ wall, logical }, region, writer) !== id) return undefined;
  } catch {
    return undefined;
  }
  return writer === undefined ? { hlc: { wall, logical }, region } : { hlc: { wall, logical }, region, writer };
}
