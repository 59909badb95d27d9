/**
 * The admin API over HTTP (documents in ./types.ts), on the gateway's S3 port under
 * /.erne/admin/ (no S3 bucket name starts with '.'). Every request is SigV4-signed with a
 * ROOT key, checked by the same verifier as S3 requests (gateway/auth), and its body must hash
 * to the signed x-amz-content-sha256: unsigned, presigned and non-root requests are refused
 * with 403 before anything is read or changed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { verifyRequest } from '../auth/index.js';
import type { Services } from '../context.js';
import { S3Error, toS3Error } from '../errors.js';
import { adminErrorOf, localAdmin } from './ops.js';
import { ADMIN_PREFIX, AdminError, type Admin, type BucketUpdate, type NewBucketInput, type NewKey } from './types.js';

const MAX_BODY = 64 * 1024;

/** with a virtual-host domain, bucket.DOMAIN/.erne/admin/x is an object key, not the admin API */
export function isAdminRequest(req: IncomingMessage, domain?: string): boolean {
  if (!(req.url ?? '').startsWith(ADMIN_PREFIX)) return false;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return !(domain && host.endsWith('.' + domain.toLowerCase()));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new AdminError('EntityTooLarge', `an admin request body is at most ${MAX_BODY} bytes`, 400);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** the JSON object a request carries; InvalidArgument otherwise */
function json<T>(body: Buffer): T {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as T;
  } catch {
    // said below
  }
  throw new AdminError('InvalidArgument', 'the request body must be a JSON object', 400);
}

/** who may call: a root key, by a signed (not presigned) request whose body is the one signed */
async function authenticate(svc: Services, req: IncomingMessage, body: Buffer): Promise<string> {
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s, 2) as [string, string?];
  const auth = await verifyRequest(
    { method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headers },
    async (id) => {
      const k = await svc.layer.getAccessKey(id);
      return k && { secretAccessKey: k.secretAccessKey, root: k.root };
    },
    { sigv2: false, regions: svc.signingRegions },
  );
  if (auth.accessKeyId === null) throw new S3Error('AccessDenied', 'The admin API needs a request signed (SigV4) with a root key.');
  if (auth.presigned) throw new S3Error('AccessDenied', 'The admin API takes no presigned URLs: sign the request itself.');
  if (!auth.root) throw new S3Error('AccessDenied', `Access key ${auth.accessKeyId} is not a root key: the admin API needs one.`);
  if (auth.payload.kind !== 'sha256') throw new S3Error('InvalidRequest', 'The admin API needs x-amz-content-sha256 set to the hash of the body.');
  if (createHash('sha256').update(body).digest('hex') !== auth.payload.hex) throw new S3Error('XAmzContentSHA256Mismatch');
  return auth.accessKeyId;
}

const NAME = '([^/?]+)';
type Route = [method: string, path: RegExp, run: (admin: Admin, m: string[], body: Buffer, query: URLSearchParams) => Promise<[number, unknown]>];

const ROUTES: Route[] = [
  ['POST', new RegExp(`^buckets/${NAME}/migrate$`), async (a, m) => [202, await a.migrate(m[1]!)]],
  ['GET', new RegExp(`^buckets/${NAME}/migrate$`), async (a, m) => [200, await a.migration(m[1]!)]],
  ['GET', /^cluster$/, async (a) => [200, await a.cluster()]],
  ['GET', /^keys$/, async (a) => [200, await a.listKeys()]],
  ['POST', /^keys$/, async (a, _m, body) => [201, await a.createKey(json<NewKey>(body))]],
  [
    'DELETE',
    new RegExp(`^keys/${NAME}$`),
    async (a, m) => {
      if (!(await a.deleteKey(m[1]!))) throw new AdminError('NoSuchKey', `no access key ${m[1]}`, 404);
      return [200, { deleted: m[1] }];
    },
  ],
  ['GET', /^buckets$/, async (a) => [200, await a.listBuckets()]],
  ['POST', /^buckets$/, async (a, _m, body) => [201, await a.createBucket(json<NewBucketInput>(body))]],
  ['GET', new RegExp(`^buckets/${NAME}$`), async (a, m) => [200, await a.bucket(m[1]!)]],
  ['PATCH', new RegExp(`^buckets/${NAME}$`), async (a, m, body) => [200, await a.updateBucket(m[1]!, json<BucketUpdate>(body))]],
  ['DELETE', new RegExp(`^buckets/${NAME}$`), async (a, m, _b, q) => [200, await a.deleteBucket(m[1]!, { force: q.get('force') === 'true' })]],
];

export function createAdminHandler(svc: Services, log?: (line: string) => void): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const body = await readBody(req);
      // authenticated before anything else is said: the API tells strangers nothing
      const caller = await authenticate(svc, req, body);
      const url = new URL(req.url ?? '/', 'http://admin');
      let rest: string;
      try {
        rest = decodeURIComponent(url.pathname.slice(ADMIN_PREFIX.length));
      } catch {
        throw new AdminError('InvalidURI', `malformed path ${url.pathname}`, 400);
      }
      const method = req.method ?? 'GET';
      const routes = ROUTES.filter(([, path]) => path.test(rest));
      if (routes.length === 0) throw new AdminError('NotFound', `no admin resource ${url.pathname}`, 404);
      const route = routes.find(([m]) => m === method);
      if (!route) throw new AdminError('MethodNotAllowed', `${method} is not allowed on ${url.pathname}`, 405);
      const admin = localAdmin({ layer: svc.layer, configs: svc.configs, namespace: svc.namespace, region: svc.region, regions: svc.regions, owner: caller, ...(svc.shadow ? { migrations: svc.shadow.migrations } : {}) });
      const [status, answer] = await route[2](admin, route[1].exec(rest)!, body, url.searchParams);
      send(res, status, answer);
    } catch (err) {
      const e = adminErrorOf(err);
      if (e instanceof AdminError) return send(res, e.status, { error: { code: e.code, message: e.message } });
      const s3 = toS3Error(err);
      if (s3.code === 'InternalError') log?.(`admin ${req.method} ${req.url} failed: ${(err as Error)?.stack ?? String(err)}`);
      if (!req.complete) res.setHeader('connection', 'close');
      send(res, s3.status, { error: { code: s3.code, message: s3.message } });
    }
  };
}
