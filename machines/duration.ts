/**
 * Durations as Fly's configs write them (Go's time.ParseDuration): "10s", "500ms", "1m30s",
 * "1.5h", "0". A bare number is taken as seconds, as fly.toml does for kill_timeout.
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** milliseconds; `fallback` when the value is absent; throws DurationError on anything else */
export function parseDuration(value: string | number | undefined | null, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new DurationError(`not a duration: ${value}`);
    return value * 1000;
  }
  const text = value.trim();
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  if (end === 0 || end !== text.length) throw new DurationError(`not a duration: ${JSON.stringify(value)} (write e.g. "10s", "500ms", "1m")`);
  return total;
}
