import { BlockList, isIP } from 'node:net';
import { globMatch, hasWildcard } from './glob.js';
import { PolicyError } from './types.js';

/**
 * A statement's Condition block: `{ Operator: { key: value | [values] } }`, every operator and
 * every key of one ANDed, the values of one key ORed. Parsed once (values checked and
 * converted: CIDRs, numbers, dates), then evaluated against a request's context.
 */

type Base =
  | 'StringEquals' | 'StringNotEquals' | 'StringEqualsIgnoreCase' | 'StringNotEqualsIgnoreCase' | 'StringLike' | 'StringNotLike'
  | 'NumericEquals' | 'NumericNotEquals' | 'NumericLessThan' | 'NumericLessThanEquals' | 'NumericGreaterThan' | 'NumericGreaterThanEquals'
  | 'DateEquals' | 'DateNotEquals' | 'DateLessThan' | 'DateLessThanEquals' | 'DateGreaterThan' | 'DateGreaterThanEquals'
  | 'Bool' | 'BinaryEquals' | 'IpAddress' | 'NotIpAddress' | 'ArnEquals' | 'ArnLike' | 'ArnNotEquals' | 'ArnNotLike' | 'Null';

/** operators whose match is "none of the values": a key the request lacks satisfies them */
const NEGATED = new Set<Base>(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike']);
const BASES = new Set<string>([
  ...NEGATED, 'StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'NumericEquals', 'NumericLessThan', 'NumericLessThanEquals',
  'NumericGreaterThan', 'NumericGreaterThanEquals', 'DateEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan',
  'DateGreaterThanEquals', 'Bool', 'BinaryEquals', 'IpAddress', 'ArnEquals', 'ArnLike', 'Null',
]);

/** a value as the operator compares it: text, a number (numbers, dates as ms), or a CIDR set */
type Operand = { text: string; num?: number; cidr?: BlockList; prefix?: number };

export interface ConditionTest {
  /** the operator as written, for messages and for the public-policy check */
  operator: string;
  base: Base;
  ifExists: boolean;
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  /** condition key, lower-cased (keys are case-insensitive) */
  key: string;
  values: Operand[];
}

/** The request's condition keys (lower-cased) and their values; a key that is absent has none. */
export type ConditionContext = ReadonlyMap<string, readonly string[]>;

const KEY = /^(aws|s3):[A-Za-z0-9_\-:./]+$/i;

function parseOperator(op: string): Pick<ConditionTest, 'base' | 'ifExists' | 'qualifier'> {
  let rest = op;
  let qualifier: ConditionTest['qualifier'];
  for (const q of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(q + ':')) {
      qualifier = q;
      rest = rest.slice(q.length + 1);
    }
  }
  const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (!BASES.has(rest) || (ifExists && rest === 'Null')) throw new PolicyError(`Invalid Condition type : ${op}`);
  return { base: rest as Base, ifExists, qualifier };
}

function toDate(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v) * 1000; // epoch seconds, as aws:EpochTime
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

function cidrList(v: string): { cidr: BlockList; prefix: number } | undefined {
  const [addr = '', bits, extra] = v.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  const list = new BlockList();
  list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return { cidr: list, prefix };
}

function operand(base: Base, key: string, raw: unknown): Operand {
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw new PolicyError(`Invalid value for condition key ${key}`);
  const text = String(raw);
  switch (base) {
    case 'NumericEquals': case 'NumericNotEquals': case 'NumericLessThan': case 'NumericLessThanEquals': case 'NumericGreaterThan': case 'NumericGreaterThanEquals': {
      const num = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(num)) throw new PolicyError(`Invalid numeric value ${text} for condition key ${key}`);
      return { text, num };
    }
    case 'DateEquals': case 'DateNotEquals': case 'DateLessThan': case 'DateLessThanEquals': case 'DateGreaterThan': case 'DateGreaterThanEquals': {
      const num = toDate(text);
      if (num === undefined) throw new PolicyError(`Invalid date value ${text} for condition key ${key}`);
      return { text, num };
    }
    case 'Bool': case 'Null':
      if (text.toLowerCase() !== 'true' && text.toLowerCase() !== 'false') throw new PolicyError(`Invalid boolean value ${text} for condition key ${key}`);
      return { text: text.toLowerCase() };
    case 'IpAddress': case 'NotIpAddress': {
      const cidr = cidrList(text);
      if (!cidr) throw new PolicyError(`Invalid IP address or CIDR ${text} for condition key ${key}`);
      return { text, ...cidr };
    }
    default:
      return { text };
  }
}

/** A Condition block (already known to be a JSON object) → its tests. */
export function parseCondition(block: Record<string, unknown>): ConditionTest[] {
  const tests: ConditionTest[] = [];
  for (const [operator, keys] of Object.entries(block)) {
    const parsed = parseOperator(operator);
    if (!keys || typeof keys !== 'object' || Array.isArray(keys)) throw new PolicyError(`Condition ${operator} must map condition keys to values`);
    for (const [key, raw] of Object.entries(keys as Record<string, unknown>)) {
      if (!KEY.test(key)) throw new PolicyError(`Policy has an invalid condition key: ${key}`);
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) throw new PolicyError(`Condition key ${key} has no value`);
      tests.push({ operator, ...parsed, key: key.toLowerCase(), values: list.map((v) => operand(parsed.base, key, v)) });
    }
  }
  return tests;
}

function compare(base: Base, request: string, v: Operand): boolean {
  switch (base) {
    case 'StringEquals': case 'StringNotEquals': case 'BinaryEquals':
      return request === v.text;
    case 'StringEqualsIgnoreCase': case 'StringNotEqualsIgnoreCase':
      return request.toLowerCase() === v.text.toLowerCase();
    case 'StringLike': case 'StringNotLike': case 'ArnEquals': case 'ArnLike': case 'ArnNotEquals': case 'ArnNotLike':
      return globMatch(v.text, request);
    case 'Bool':
      return request.toLowerCase() === v.text;
    case 'IpAddress': case 'NotIpAddress': {
      const family = isIP(request);
      return family !== 0 && v.cidr!.check(request, family === 4 ? 'ipv4' : 'ipv6');
    }
    default: {
      const r = base.startsWith('Date') ? toDate(request) : request.trim() === '' ? NaN : Number(request);
      if (r === undefined || !Number.isFinite(r)) return false;
      const n = v.num!;
      if (base.endsWith('NotEquals')) return r === n; // negated afterwards
      if (base.endsWith('GreaterThanEquals')) return r >= n;
      if (base.endsWith('GreaterThan')) return r > n;
      if (base.endsWith('LessThanEquals')) return r <= n;
      if (base.endsWith('LessThan')) return r < n;
      return r === n;
    }
  }
}

/** One test against the request, with IAM's rules for keys the request does not carry. */
export function testHolds(t: ConditionTest, ctx: ConditionContext): boolean {
  const present = ctx.get(t.key);
  if (t.base === 'Null') {
    const wantsAbsent = t.values.some((v) => v.text === 'true');
    const wantsPresent = t.values.some((v) => v.text === 'false');
    return present === undefined || present.length === 0 ? wantsAbsent : wantsPresent;
  }
  if (present === undefined || present.length === 0) return t.ifExists || t.qualifier === 'ForAllValues' || NEGATED.has(t.base);
  const negated = NEGATED.has(t.base);
  const each = (r: string) => {
    const any = t.values.some((v) => compare(t.base, r, v));
    return negated ? !any : any;
  };
  if (t.qualifier === 'ForAllValues') return present.every(each);
  if (t.qualifier === 'ForAnyValue') return present.some(each);
  return negated ? present.every(each) : present.some(each);
}

export function conditionsHold(tests: readonly ConditionTest[], ctx: ConditionContext): boolean {
  return tests.every((t) => testHolds(t, ctx));
}

/** keys whose fixed value limits who may call (AWS's list for "public"), besides aws:SourceIp */
const FIXED_IDENTITY_KEYS = new Set([
  'aws:sourcearn', 'aws:sourcevpc', 'aws:sourcevpce', 'aws:sourceowner', 'aws:sourceaccount', 'aws:userid', 'aws:principalarn',
  'aws:principalaccount', 'aws:principalorgid', 's3:x-amz-server-side-encryption-aws-kms-key-id',
]);

/** Does this test confine a statement to known callers, so that it does not make a policy public? */
export function restrictsCallers(t: ConditionTest): boolean {
  if (t.ifExists || t.qualifier === 'ForAllValues') return false; // a request without the key passes
  // a /0 range lets every address through
  if (t.key === 'aws:sourceip') return t.base === 'IpAddress' && t.values.every((v) => (v.prefix ?? 0) > 0);
  if (!FIXED_IDENTITY_KEYS.has(t.key)) return false;
  const exact = t.base === 'StringEquals' || t.base === 'StringEqualsIgnoreCase' || t.base === 'ArnEquals';
  const like = t.base === 'StringLike' || t.base === 'ArnLike';
  return (exact || like) && t.values.every((v) => !hasWildcard(v.text));
}
