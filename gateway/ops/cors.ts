import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { HandlerTable, OpResult, Services } from '../context.js';
import { configDocumentHandlers } from './bucket-config-doc.js';
import { corsConfigurationXml, corsResponseHeaders, matchCorsRule, parseCorsConfiguration, parseHeaderList, type CorsRule } from '../cors-rules.js';
import { S3Error } from '../errors.js';

/** Put/Get/DeleteBucketCors, the OPTIONS preflight, and CORS headers on actual requests. */

const KIND = 'cors';

export const corsHandlers: HandlerTable = configDocumentHandlers<CorsRule[]>({
  kind: KIND,
  operations: ['PutBucketCors', 'GetBucketCors', 'DeleteBucketCors'],
  parse: parseCorsConfiguration,
  render: (rules) => ({ root: 'CORSConfiguration', value: corsConfigurationXml(rules) }),
  missing: 'NoSuchCORSConfiguration',
});

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * OPTIONS: a browser's preflight, unauthenticated as on S3. Allowed only when a rule of the
 * bucket matches the origin, the method and every requested header.
 */
export async function preflight(svc: Services, bucket: string | undefined, headers: IncomingHttpHeaders): Promise<OpResult> {
  const origin = one(headers.origin);
  const method = one(headers['access-control-request-method']);
  if (!origin || !method) throw new S3Error('InvalidRequest', 'Insufficient information. Origin request header needed.');
  if (!bucket) throw new S3Error('AccessForbidden', undefined, { Method: method, ResourceType: 'BUCKET' });
  await svc.layer.getBucket(bucket); // NoSuchBucket
  const rules = (await svc.configs.get<CorsRule[]>(bucket, KIND)) ?? [];
  const req = { origin, method, requestHeaders: parseHeaderList(one(headers['access-control-request-headers'])) };
  const rule = matchCorsRule(rules, req);
  if (!rule) throw new S3Error('AccessForbidden', undefined, { Method: method, ResourceType: 'OBJECT' });
  return { headers: corsResponseHeaders(rule, req, true) };
}

/**
 * A request with an Origin header: when a rule allows it, its Access-Control-* headers are
 * set on the response now so they go out with the result or with an error alike. Requests
 * without Origin never get here (no configuration read).
 */
export async function setCorsHeaders(svc: Services, res: ServerResponse, bucket: string, method: string, headers: IncomingHttpHeaders): Promise<void> {
  const origin = one(headers.origin);
  if (!origin) return;
  const rules = await svc.configs.get<CorsRule[]>(bucket, KIND).catch(() => undefined);
  if (!rules) return;
  const req = { origin, method: method.toUpperCase(), requestHeaders: [] };
  const rule = matchCorsRule(rules, req);
  if (!rule) return;
  for (const [name, value] of Object.entries(corsResponseHeaders(rule, req, false))) res.setHeader(name, value);
}
