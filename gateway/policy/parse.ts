import { actionKinds, isValidActionPattern, type ResourceKind } from './actions.js';
import { parseCondition } from './conditions.js';
import { globMatch } from './glob.js';
import { MAX_POLICY_BYTES, PolicyError, type Effect, type PatternList, type Policy, type Principals, type Statement } from './types.js';

/**
 * A bucket policy document (JSON text) → a validated Policy, or PolicyError saying what is
 * wrong. The checks are S3's: required fields, known actions, resources inside this bucket,
 * actions that apply to at least one of the statement's resources, well-formed conditions.
 *
 * Principals: `*`; `{"AWS": "*"}`; an Erne key as `{"AWS": "<ACCESS_KEY_ID>"}` or as the ARN
 * `arn:aws:iam::<account>:user/<ACCESS_KEY_ID>` (the account part is not checked: Erne has
 * no accounts); `{"CanonicalUser": "<ACCESS_KEY_ID>"}`. Service and Federated principals are
 * accepted and match no Erne caller.
 */

export const S3_ARN_PREFIX = 'arn:aws:s3:::';
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const KEY_ID = /^[A-Za-z0-9+/=._-]{1,128}$/;
const USER_ARN = /^arn:aws:iam::[A-Za-z0-9-]*:user\/(?:[^:]*\/)?([^/:]+)$/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** a string or a non-empty array of strings */
function strings(v: unknown, field: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && s !== '')) throw new PolicyError(`${field} must be a string or a non-empty list of strings`);
  return list as string[];
}

function keyOf(v: string): string {
  const arn = USER_ARN.exec(v);
  const id = arn ? arn[1]! : v;
  if (!KEY_ID.test(id) || (!arn && v.startsWith('arn:'))) throw new PolicyError(`Invalid principal in policy: ${v}`);
  return id;
}

function parsePrincipal(v: unknown): Principals {
  if (v === '*') return { any: true, keys: new Set() };
  if (!isObject(v) || Object.keys(v).length === 0) throw new PolicyError('Invalid principal in policy');
  let any = false;
  const keys = new Set<string>();
  for (const [kind, raw] of Object.entries(v)) {
    const values = strings(raw, `Principal ${kind}`);
    if (kind === 'AWS') {
      for (const s of values) {
        if (s === '*') any = true;
        else keys.add(keyOf(s));
      }
    } else if (kind === 'CanonicalUser') {
      for (const s of values) keys.add(keyOf(s));
    } else if (kind !== 'Service' && kind !== 'Federated') throw new PolicyError(`Invalid principal in policy: unknown principal type ${kind}`);
  }
  return { any, keys };
}

function either(st: Json, field: string, notField: string): { value: unknown; not: boolean } {
  const has = st[field] !== undefined;
  const hasNot = st[notField] !== undefined;
  if (has && hasNot) throw new PolicyError(`A statement cannot have both ${field} and ${notField}`);
  if (!has && !hasNot) throw new PolicyError(`Missing required field ${field}`);
  return has ? { value: st[field], not: false } : { value: st[notField], not: true };
}

function resourceKinds(pattern: string): Set<ResourceKind> {
  if (pattern === '*') return new Set(['bucket', 'object']);
  const rest = pattern.slice(S3_ARN_PREFIX.length);
  if (rest.includes('/')) return new Set(['object']);
  // a wildcard may stand for "bucket/key" too
  return new Set(rest.includes('*') ? ['bucket', 'object'] : ['bucket']);
}

function parseResources(value: unknown, not: boolean, bucket: string): PatternList {
  const patterns = strings(value, not ? 'NotResource' : 'Resource');
  for (const p of patterns) {
    if (p === '*') continue;
    const bucketPart = p.startsWith(S3_ARN_PREFIX) ? p.slice(S3_ARN_PREFIX.length).split('/')[0]! : undefined;
    if (bucketPart === undefined || bucketPart === '' || !globMatch(bucketPart, bucket)) throw new PolicyError(`Policy has invalid resource: ${p}`);
  }
  return { not, patterns };
}

function parseStatement(st: unknown, bucket: string): Statement {
  if (!isObject(st)) throw new PolicyError('Each statement must be a JSON object');
  for (const k of Object.keys(st)) if (!STATEMENT_FIELDS.has(k)) throw new PolicyError(`Unknown field ${k}`);
  const sid = st['Sid'];
  if (sid !== undefined && typeof sid !== 'string') throw new PolicyError('Sid must be a string');
  const effect = st['Effect'];
  if (effect === undefined) throw new PolicyError('Missing required field Effect');
  if (effect !== 'Allow' && effect !== 'Deny') throw new PolicyError(`Invalid effect: ${String(effect)}`);
  const principal = either(st, 'Principal', 'NotPrincipal');
  const actionField = either(st, 'Action', 'NotAction');
  const actions = strings(actionField.value, actionField.not ? 'NotAction' : 'Action');
  for (const a of actions) if (!isValidActionPattern(a)) throw new PolicyError(`Policy has invalid action: ${a}`);
  const resourceField = either(st, 'Resource', 'NotResource');
  const resource = parseResources(resourceField.value, resourceField.not, bucket);
  if (!actionField.not && !resource.not) {
    const fits = actions.some((a) => {
      const kinds = actionKinds(a);
      return resource.patterns.some((r) => [...resourceKinds(r)].some((k) => kinds.has(k)));
    });
    if (!fits) throw new PolicyError('Action does not apply to any resource(s) in statement');
  }
  const cond = st['Condition'];
  if (cond !== undefined && !isObject(cond)) throw new PolicyError('Condition must be a JSON object');
  return {
    ...(sid !== undefined ? { sid } : {}),
    effect: effect as Effect,
    principal: { ...parsePrincipal(principal.value), not: principal.not },
    action: { not: actionField.not, patterns: actions },
    resource,
    conditions: cond ? parseCondition(cond) : [],
  };
}

/** The policy text of PutBucketPolicy for `bucket` → Policy; PolicyError when it is not a valid one. */
export function parsePolicy(text: string, bucket: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('Policies must be valid JSON and the first byte must be \'{\'');
  }
  if (!isObject(doc)) throw new PolicyError('Policies must be valid JSON and the first byte must be \'{\'');
  if (Buffer.byteLength(JSON.stringify(doc)) > MAX_POLICY_BYTES) throw new PolicyError('Policy exceeds the maximum allowed document size.');
  for (const k of Object.keys(doc)) if (!TOP_FIELDS.has(k)) throw new PolicyError(`Unknown field ${k}`);
  const version = doc['Version'];
  if (version !== undefined && (typeof version !== 'string' || !VERSIONS.has(version))) throw new PolicyError(`Invalid policy version: ${String(version)}`);
  if (doc['Id'] !== undefined && typeof doc['Id'] !== 'string') throw new PolicyError('Id must be a string');
  const raw = doc['Statement'];
  if (raw === undefined) throw new PolicyError('Missing required field Statement');
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new PolicyError('Could not parse the policy: Statement is empty!');
  const statements = list.map((s) => parseStatement(s, bucket));
  const sids = new Set<string>();
  for (const s of statements) {
    if (s.sid === undefined || s.sid === '') continue;
    if (sids.has(s.sid)) throw new PolicyError(`Statement IDs (SID) in a single policy must be unique: ${s.sid}`);
    sids.add(s.sid);
  }
  return { statements };
}

/** every Erne key a policy names (PutBucketPolicy refuses keys that do not exist) */
export function namedKeys(policy: Policy): Set<string> {
  const out = new Set<string>();
  for (const s of policy.statements) for (const k of s.principal.keys) out.add(k);
  return out;
}
