/**
 * The POST policy of a browser form upload (AWS "Creating a POST policy"): a base64 JSON
 * document with an expiration and conditions every form field must meet, signed with SigV4
 * (HMAC of the base64 text with the signing key) or SigV2 (gateway/auth/v2-post.ts). Pure: no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { signingKey } from './auth/signing-key.js';
import { S3Error } from './errors.js';

export type PolicyCondition =
  | { op: 'eq' | 'starts-with'; field: string; value: string }
  | { op: 'content-length-range'; min: number; max: number };

export interface PostPolicy {
  /** ms since epoch */
  expiration: number;
  conditions: PolicyCondition[];
}

function invalid(message: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

function denied(message: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${message}`);
}

const fieldName = (raw: unknown): string => {
  if (typeof raw !== 'string') throw invalid('Invalid Condition');
  return (raw.startsWith('$') ? raw.slice(1) : raw).toLowerCase();
};

/** base64 policy text → its expiration and conditions (InvalidPolicyDocument when malformed) */
export function parsePolicy(base64: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalid('Invalid JSON.');
  }
  if (!doc || typeof doc !== 'object') throw invalid('Invalid JSON.');
  const d = doc as Record<string, unknown>;
  const expiration = typeof d['expiration'] === 'string' ? Date.parse(d['expiration']) : NaN;
  if (Number.isNaN(expiration)) throw invalid('Invalid \'expiration\' value.');
  if (!Array.isArray(d['conditions'])) throw invalid('Missing \'conditions\'.');
  const conditions: PolicyCondition[] = [];
  for (const c of d['conditions'] as unknown[]) {
    if (Array.isArray(c)) {
      const op = typeof c[0] === 'string' ? c[0].toLowerCase() : '';
      if (op === 'content-length-range') {
        const min = Number(c[1]);
        const max = Number(c[2]);
        if (c.length !== 3 || !Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) throw invalid('Invalid content-length-range.');
        conditions.push({ op, min, max });
      } else if (op === 'eq' || op === 'starts-with') {
        if (c.length !== 3 || typeof c[2] !== 'string') throw invalid(`Invalid ${op} condition.`);
        conditions.push({ op, field: fieldName(c[1]), value: c[2] });
      } else throw invalid(`Unknown condition ${String(c[0])}.`);
    } else if (c && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1 || typeof entries[0]![1] !== 'string') throw invalid('Invalid simple condition.');
      conditions.push({ op: 'eq', field: fieldName(entries[0]![0]), value: entries[0]![1] as string });
    } else throw invalid('Invalid condition.');
  }
  return { expiration, conditions };
}

/** fields S3 never asks the policy to cover (AWSAccessKeyId and signature: those of a SigV2 form) */
function exempt(name: string): boolean {
  return name === 'policy' || name === 'x-amz-signature' || name === 'file' || name === 'awsaccesskeyid' || name === 'signature' || name.startsWith('x-ignore-');
}

/**
 * Checks the form against the policy: not expired, every condition met, every field covered.
 * `fields` holds lower-case names, the bucket and the final key (with ${filename} replaced).
 * Returns the allowed size range of the file.
 */
export function checkPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, now: number): { min: number; max: number } {
  if (now > policy.expiration) throw denied('Policy expired.');
  const covered = new Set<string>();
  let range = { min: 0, max: Infinity };
  for (const c of policy.conditions) {
    if (c.op === 'content-length-range') {
      range = { min: c.min, max: c.max };
      continue;
    }
    covered.add(c.field);
    const value = fields.get(c.field) ?? '';
    const ok = c.op === 'eq' ? value === c.value : value.startsWith(c.value);
    if (!ok) throw denied(`Policy Condition failed: ["${c.op}", "$${c.field}", "${c.value}"]`);
  }
  for (const name of fields.keys()) {
    if (!exempt(name) && name !== 'bucket' && !covered.has(name)) throw denied(`Extra input fields: ${name}`);
  }
  return range;
}

/** The SigV4 signature of a POST policy: hex HMAC-SHA256 of the base64 text. */
export function policySignature(policyBase64: string, secret: string, date: string, region: string): string {
  return createHmac('sha256', signingKey(secret, date, region, 's3')).update(policyBase64).digest('hex');
}

export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
