/**
 * Lifecycle rules as stored in a bucket's configuration, and the pure decisions the lifecycle
 * job makes with them: which objects a rule's filter selects and when an action falls due.
 * S3's timing: an action is due at creation (or, for noncurrent versions, the time the
 * version became noncurrent) plus N days, rounded up to the next midnight UTC.
 */

export interface LifecycleFilter {
  prefix?: string;
  /** every tag must be present with this value */
  tags?: Record<string, string>;
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}

export interface LifecycleRule {
  id?: string;
  enabled: boolean;
  filter: LifecycleFilter;
  /** how the filter was written (Filter element or the legacy top-level Prefix), for GET */
  legacyPrefix?: boolean;
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean };
  noncurrentExpiration?: { days: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartUploadDays?: number;
}

export const DAY_MS = 86_400_000;

/** `t` rounded up to the next midnight UTC (unchanged when it is one) */
export function ceilToMidnightUtc(t: number): number {
  return Math.ceil(t / DAY_MS) * DAY_MS;
}

/** when something that started at `start` is due after `days` days */
export function dueAt(start: number, days: number): number {
  return ceilToMidnightUtc(start + days * DAY_MS);
}

export function filterMatches(f: LifecycleFilter, key: string, tags: Record<string, string> | undefined, size: number): boolean {
  if (f.prefix && !key.startsWith(f.prefix)) return false;
  if (f.tags) for (const [k, v] of Object.entries(f.tags)) if (tags?.[k] !== v) return false;
  if (f.sizeGreaterThan !== undefined && !(size > f.sizeGreaterThan)) return false;
  if (f.sizeLessThan !== undefined && !(size < f.sizeLessThan)) return false;
  return true;
}

/** does an enabled Expiration (days or date) make the current version with these facts due by `now`? */
export function currentExpired(rule: LifecycleRule, lastModified: number, now: number): boolean {
  const e = rule.expiration;
  if (!rule.enabled || !e) return false;
  if (e.days !== undefined) return now >= dueAt(lastModified, e.days);
  if (e.date !== undefined) return now >= e.date;
  return false;
}

/**
 * Is a noncurrent version due? `noncurrentSince` is when its successor was written;
 * `newerNoncurrent` counts the noncurrent versions newer than it (NewerNoncurrentVersions keeps that many).
 */
export function noncurrentExpired(rule: LifecycleRule, noncurrentSince: number, newerNoncurrent: number, now: number): boolean {
  const n = rule.noncurrentExpiration;
  if (!rule.enabled || !n) return false;
  if (n.newerNoncurrentVersions !== undefined && newerNoncurrent < n.newerNoncurrentVersions) return false;
  return now >= dueAt(noncurrentSince, n.days);
}

export function uploadAbortDue(rule: LifecycleRule, initiated: number, now: number): boolean {
  const d = rule.abortIncompleteMultipartUploadDays;
  return rule.enabled && d !== undefined && now >= dueAt(initiated, d);
}
