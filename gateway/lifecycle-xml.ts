/**
 * The LifecycleConfiguration document: parsed and validated into rules (metadata/
 * lifecycle-rules.ts) with S3's error codes, and rendered back for GET. Storage-class
 * transitions are NotImplemented (Erne has one storage class).
 */
import type { LifecycleFilter, LifecycleRule } from '../metadata/lifecycle-rules.js';
import { DAY_MS } from '../metadata/lifecycle-rules.js';
import { S3Error } from './errors.js';

export const MAX_LIFECYCLE_RULES = 1000;

type El = Record<string, unknown>;

const isEl = (v: unknown): v is El => !!v && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function positiveInt(v: unknown, what: string): number {
  const s = text(v);
  if (s === undefined || !/^\d+$/.test(s) || Number(s) < 1) throw new S3Error('InvalidArgument', `'${what}' must be a positive integer`);
  return Number(s);
}

function nonNegativeInt(v: unknown, what: string): number {
  const s = text(v);
  if (s === undefined || !/^\d+$/.test(s)) throw new S3Error('InvalidArgument', `'${what}' must be a non-negative integer`);
  return Number(s);
}

function tagsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list(v)) {
    if (!isEl(t) || typeof t['Key'] !== 'string') throw new S3Error('MalformedXML');
    if (Object.hasOwn(out, t['Key'])) throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
    out[t['Key']] = text(t['Value']) ?? '';
  }
  return out;
}

function parseFilter(f: unknown): LifecycleFilter {
  if (f === '' || f === undefined) return {};
  if (!isEl(f)) throw new S3Error('MalformedXML');
  const keys = Object.keys(f);
  if (keys.length !== 1) throw new S3Error('MalformedXML', 'Filter must have exactly one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan or And.');
  const filter: LifecycleFilter = {};
  const inner = keys[0] === 'And' ? f['And'] : f;
  if (!isEl(inner)) throw new S3Error('MalformedXML');
  if (inner['Prefix'] !== undefined) filter.prefix = text(inner['Prefix']) ?? '';
  if (inner['Tag'] !== undefined) filter.tags = tagsOf(inner['Tag']);
  if (inner['ObjectSizeGreaterThan'] !== undefined) filter.sizeGreaterThan = nonNegativeInt(inner['ObjectSizeGreaterThan'], 'ObjectSizeGreaterThan');
  if (inner['ObjectSizeLessThan'] !== undefined) filter.sizeLessThan = positiveInt(inner['ObjectSizeLessThan'], 'ObjectSizeLessThan');
  for (const k of Object.keys(inner)) {
    if (!['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'].includes(k)) throw new S3Error('MalformedXML');
  }
  if (keys[0] === 'And' && Object.keys(inner).length + (filter.tags ? Object.keys(filter.tags).length - 1 : 0) < 2) {
    throw new S3Error('MalformedXML', 'And must combine at least two predicates.');
  }
  return filter;
}

function parseRule(r: unknown, ids: Set<string>): LifecycleRule {
  if (!isEl(r)) throw new S3Error('MalformedXML');
  for (const k of ['Transition', 'NoncurrentVersionTransition']) {
    if (r[k] !== undefined) throw new S3Error('NotImplemented', 'Lifecycle transitions between storage classes are not supported.');
  }
  const status = r['Status'];
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML', "Status must be 'Enabled' or 'Disabled'.");
  const rule: LifecycleRule = { enabled: status === 'Enabled', filter: {} };
  const id = text(r['ID']);
  if (id !== undefined && id !== '') {
    if (id.length > 255) throw new S3Error('InvalidArgument', 'ID length should not exceed allowed limit of 255');
    if (ids.has(id)) throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
    ids.add(id);
    rule.id = id;
  }
  if (r['Filter'] !== undefined && r['Prefix'] !== undefined) throw new S3Error('MalformedXML');
  if (r['Prefix'] !== undefined) {
    rule.filter = { prefix: text(r['Prefix']) ?? '' };
    rule.legacyPrefix = true;
  } else rule.filter = parseFilter(r['Filter']);

  const exp = r['Expiration'];
  if (exp !== undefined) {
    if (!isEl(exp)) throw new S3Error('MalformedXML');
    const n = ['Days', 'Date', 'ExpiredObjectDeleteMarker'].filter((k) => exp[k] !== undefined).length;
    if (n !== 1) throw new S3Error('MalformedXML', 'Expiration must have exactly one of Days, Date or ExpiredObjectDeleteMarker.');
    if (exp['Days'] !== undefined) rule.expiration = { days: positiveInt(exp['Days'], 'Days') };
    else if (exp['Date'] !== undefined) {
      const d = Date.parse(text(exp['Date']) ?? '');
      if (Number.isNaN(d)) throw new S3Error('InvalidArgument', "'Date' must be a valid ISO 8601 date");
      if (d % DAY_MS !== 0) throw new S3Error('InvalidArgument', "'Date' must be at midnight GMT");
      rule.expiration = { date: d };
    } else {
      const v = text(exp['ExpiredObjectDeleteMarker']);
      if (v !== 'true' && v !== 'false') throw new S3Error('MalformedXML');
      rule.expiration = { expiredObjectDeleteMarker: v === 'true' };
    }
  }
  const nc = r['NoncurrentVersionExpiration'];
  if (nc !== undefined) {
    if (!isEl(nc)) throw new S3Error('MalformedXML');
    rule.noncurrentExpiration = { days: positiveInt(nc['NoncurrentDays'], 'NoncurrentDays') };
    if (nc['NewerNoncurrentVersions'] !== undefined) rule.noncurrentExpiration.newerNoncurrentVersions = positiveInt(nc['NewerNoncurrentVersions'], 'NewerNoncurrentVersions');
  }
  const ab = r['AbortIncompleteMultipartUpload'];
  if (ab !== undefined) {
    if (!isEl(ab)) throw new S3Error('MalformedXML');
    rule.abortIncompleteMultipartUploadDays = positiveInt(ab['DaysAfterInitiation'], 'DaysAfterInitiation');
  }
  if (!rule.expiration && !rule.noncurrentExpiration && rule.abortIncompleteMultipartUploadDays === undefined) {
    throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  }
  if (rule.filter.tags && (rule.abortIncompleteMultipartUploadDays !== undefined || rule.expiration?.expiredObjectDeleteMarker !== undefined)) {
    throw new S3Error('InvalidRequest', 'Tag-based filter cannot be used with ExpiredObjectDeleteMarker or AbortIncompleteMultipartUpload.');
  }
  return rule;
}

/** LifecycleConfiguration (as parsed by gateway/xml.ts) → validated rules */
export function parseLifecycleConfiguration(doc: Record<string, unknown>): LifecycleRule[] {
  const conf = doc['LifecycleConfiguration'];
  if (!isEl(conf)) throw new S3Error('MalformedXML');
  const rules = list(conf['Rule']);
  if (rules.length === 0) throw new S3Error('MalformedXML');
  if (rules.length > MAX_LIFECYCLE_RULES) throw new S3Error('InvalidRequest', `The number of lifecycle rules should not exceed allowed limit of ${MAX_LIFECYCLE_RULES} rules`);
  const ids = new Set<string>();
  return rules.map((r) => parseRule(r, ids));
}

function filterXml(f: LifecycleFilter): El {
  const parts: El = {};
  if (f.prefix !== undefined) parts['Prefix'] = f.prefix;
  const tags = f.tags ? Object.entries(f.tags).map(([Key, Value]) => ({ Key, Value })) : [];
  if (tags.length) parts['Tag'] = tags;
  if (f.sizeGreaterThan !== undefined) parts['ObjectSizeGreaterThan'] = f.sizeGreaterThan;
  if (f.sizeLessThan !== undefined) parts['ObjectSizeLessThan'] = f.sizeLessThan;
  const count = Object.keys(parts).length + Math.max(0, tags.length - 1);
  if (count === 0) return {};
  if (count === 1) return tags.length ? { Tag: tags[0] } : parts;
  return { And: parts };
}

/** rules → the GetBucketLifecycleConfiguration document body */
export function lifecycleConfigurationXml(rules: LifecycleRule[]): El {
  return {
    Rule: rules.map((r) => {
      const el: El = {};
      if (r.id !== undefined) el['ID'] = r.id;
      if (r.legacyPrefix) el['Prefix'] = r.filter.prefix ?? '';
      else el['Filter'] = filterXml(r.filter);
      el['Status'] = r.enabled ? 'Enabled' : 'Disabled';
      const e = r.expiration;
      if (e?.days !== undefined) el['Expiration'] = { Days: e.days };
      else if (e?.date !== undefined) el['Expiration'] = { Date: new Date(e.date).toISOString() };
      else if (e?.expiredObjectDeleteMarker !== undefined) el['Expiration'] = { ExpiredObjectDeleteMarker: String(e.expiredObjectDeleteMarker) };
      if (r.noncurrentExpiration) {
        el['NoncurrentVersionExpiration'] = {
          NoncurrentDays: r.noncurrentExpiration.days,
          ...(r.noncurrentExpiration.newerNoncurrentVersions !== undefined ? { NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions } : {}),
        };
      }
      if (r.abortIncompleteMultipartUploadDays !== undefined) el['AbortIncompleteMultipartUpload'] = { DaysAfterInitiation: r.abortIncompleteMultipartUploadDays };
      return el;
    }),
  };
}
