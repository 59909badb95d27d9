/**
 * Sizes and durations as people type them on a command line: `1KiB`, `64MiB`, `1.5GB`,
 * `4096`; `10s`, `500ms`, `2m`. Binary (KiB) and decimal (KB) units are both accepted and
 * mean what they say; a bare `K`/`M`/`G` is binary, as in warp and dd.
 */

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  tb: 1000 ** 4,
};

/** bytes from "64MiB" etc.; throws RangeError on anything else */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new RangeError(`not a size: ${JSON.stringify(text)} (try 1KiB, 64MiB, 4096)`);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(Math.round(n))) throw new RangeError(`size too large: ${text}`);
  return Math.round(n);
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000 };

/** milliseconds from "10s", "500ms", "2m", or a bare number of seconds */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*$/i.exec(text);
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(text)} (try 10s, 500ms, 2m)`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!);
}

/** "1 KiB", "64 MiB", "1.5 GiB": binary units, up to 3 significant digits */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  const digits = i === 0 || v >= 100 || Number.isInteger(v) ? 0 : v >= 10 ? 1 : 2;
  // Number(…) drops trailing zeros: 1.50 → 1.5
  return `${Number(v.toFixed(digits))} ${units[i]}`;
}
