/**
 * Durations as Fly's configs and query strings write them: Go-style strings ("10s", "500ms",
 * "1m30s") or a bare number of seconds. Returns milliseconds; undefined when absent; throws a
 * one-line Error when the text is not a duration.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v * 1000);
  if (typeof v !== 'string') throw new Error(`${what}: expected a duration such as "10s", got ${JSON.stringify(v)}`);
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== v) throw new Error(`${what}: expected a duration such as "10s", got ${JSON.stringify(v)}`);
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0));
}

/** milliseconds back to the Go-style text Fly uses ("1.5s", "250ms") */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : ms > 1000 ? `${ms / 1000}s` : `${ms}ms`;
}
