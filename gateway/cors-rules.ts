/**
 * S3 CORS rules: the CORSConfiguration document parsed and validated, and the matching of a
 * browser request (preflight or actual) against the rules. Pure: no I/O.
 */
import { S3Error } from './errors.js';

export interface CorsRule {
  id?: string;
  origins: string[];
  methods: string[];
  /** lower-case patterns (may hold one '*') */
  headers: string[];
  expose: string[];
  maxAgeSeconds?: number;
}

export const CORS_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
export const MAX_CORS_RULES = 100;

function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (typeof x === 'string' ? x : String(x ?? '')));
}

function oneWildcard(kind: string, pattern: string): void {
  if (pattern.split('*').length > 2) {
    throw new S3Error('InvalidRequest', `${kind} "${pattern}" can not have more than one wildcard.`);
  }
}

/** CORSConfiguration (as parsed by gateway/xml.ts) → validated rules. */
export function parseCorsConfiguration(doc: Record<string, unknown>): CorsRule[] {
  const conf = doc['CORSConfiguration'];
  if (!conf || typeof conf !== 'object') throw new S3Error('MalformedXML');
  const raw = (conf as Record<string, unknown>)['CORSRule'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new S3Error('MalformedXML');
  if (list.length > MAX_CORS_RULES) throw new S3Error('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_CORS_RULES} rules.`);
  return list.map((r) => {
    if (!r || typeof r !== 'object') throw new S3Error('MalformedXML');
    const e = r as Record<string, unknown>;
    const rule: CorsRule = {
      origins: strings(e['AllowedOrigin']),
      methods: strings(e['AllowedMethod']),
      headers: strings(e['AllowedHeader']).map((h) => h.toLowerCase()),
      expose: strings(e['ExposeHeader']),
    };
    if (rule.origins.length === 0 || rule.methods.length === 0) throw new S3Error('MalformedXML');
    for (const m of rule.methods) {
      if (!CORS_METHODS.has(m)) throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    for (const o of rule.origins) oneWildcard('AllowedOrigin', o);
    for (const h of rule.headers) oneWildcard('AllowedHeader', h);
    if (typeof e['ID'] === 'string') rule.id = e['ID'];
    if (e['MaxAgeSeconds'] !== undefined) {
      const n = Number(e['MaxAgeSeconds']);
      if (!Number.isInteger(n) || n < 0) throw new S3Error('MalformedXML');
      rule.maxAgeSeconds = n;
    }
    return rule;
  });
}

/** rules → the GetBucketCors document body */
export function corsConfigurationXml(rules: CorsRule[]): Record<string, unknown> {
  return {
    CORSRule: rules.map((r) => ({
      ...(r.id !== undefined ? { ID: r.id } : {}),
      ...(r.headers.length ? { AllowedHeader: r.headers } : {}),
      AllowedMethod: r.methods,
      AllowedOrigin: r.origins,
      ...(r.expose.length ? { ExposeHeader: r.expose } : {}),
      ...(r.maxAgeSeconds !== undefined ? { MaxAgeSeconds: r.maxAgeSeconds } : {}),
    })),
  };
}

/** does `value` match a pattern with at most one '*' (any run of characters)? */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

export interface CorsRequest {
  origin: string;
  /** the actual method, or Access-Control-Request-Method of a preflight */
  method: string;
  /** Access-Control-Request-Headers of a preflight, lower-case */
  requestHeaders: string[];
}

/** The first rule that allows the request, as S3 evaluates them: in document order. */
export function matchCorsRule(rules: CorsRule[], r: CorsRequest): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.methods.includes(r.method) &&
      rule.origins.some((o) => wildcardMatch(o, r.origin)) &&
      r.requestHeaders.every((h) => rule.headers.some((p) => wildcardMatch(p, h))),
  );
}

/** Access-Control-* response headers for a request a rule allowed. */
export function corsResponseHeaders(rule: CorsRule, r: CorsRequest, preflight: boolean): Record<string, string> {
  const anyOrigin = rule.origins.includes('*');
  const out: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : r.origin,
    'access-control-allow-methods': rule.methods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!anyOrigin) out['access-control-allow-credentials'] = 'true';
  if (preflight && r.requestHeaders.length) out['access-control-allow-headers'] = r.requestHeaders.join(', ');
  if (rule.expose.length) out['access-control-expose-headers'] = rule.expose.join(', ');
  if (rule.maxAgeSeconds !== undefined) out['access-control-max-age'] = String(rule.maxAgeSeconds);
  return out;
}

/** "a, B ,c" → ['a', 'b', 'c'] */
export function parseHeaderList(v: string | undefined): string[] {
  if (!v) return [];
  return v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}
