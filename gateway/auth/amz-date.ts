/** Request timestamps: x-amz-date's ISO 8601 basic form, and the HTTP Date header. */

/** AWS allows 15 minutes between the request time and the server's. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** "20130524T000000Z" → ms since epoch, or undefined when malformed */
export function parseAmzDate(s: string): number | undefined {
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  // reject rolled-over values such as month 13
  return new Date(t).getUTCMonth() === mo - 1 && new Date(t).getUTCDate() === d ? t : undefined;
}

/** ms since epoch → "20130524T000000Z" */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** RFC 7231 Date header → ms, or undefined */
export function parseHttpDate(s: string): number | undefined {
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}
