import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveAddress } from './address.js';
import { authorize } from './access.js';
import { verifyRequest } from './auth/index.js';
import type { KeyLookup } from './auth/types.js';
import type { OpContext, Services } from './context.js';
import { handlerFor, readsBody } from './dispatch.js';
import { readSmallBody } from './small-body.js';
import type { AccessKeyRecord } from '../metadata/types.js';
import type { Observer } from './observe/observer.js';
import { withCannedAcl } from './ops/acl.js';
import { preflight, setCorsHeaders } from './ops/cors.js';
import { S3Error, toS3Error } from './errors.js';
import { writeError, writeResult } from './respond.js';
import { resolveOperation } from './router.js';
import { checkNameLengths } from './limits.js';
import { drainAfterAnswer, lingerOnClose } from './linger.js';
import { textAsHeader } from './header-text.js';
import { connectionOf } from './policy/context.js';
import { uploadOwner } from './forward/upload-owner.js';
import { bucketRoute, ROUTE_TIMEOUTS, unreachableMessage } from './forward/bucket-route.js';
import { awaitForwardedBucket } from './forward/arrival.js';
import { shadowed } from './shadow/hooks.js';

export interface AppOptions {
  /** virtual-host style base domain */
  domain?: string;
  log?: (line: string) => void;
  /** access log and metrics (gateway/observe) */
  observer?: Observer;
}

/** Request ids: 16 hex chars, unique per process and cheap to make. */
function requestIds(): () => string {
  const prefix = randomBytes(4).toString('hex').toUpperCase();
  let n = 0;
  return () => prefix + (n++).toString(16).toUpperCase().padStart(8, '0');
}

const PRESIGN_AUTH_PARAMS = new Set(['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token']);

/**
 * In a presigned URL, other x-amz-* query parameters stand for headers (as on S3): a
 * checksum the presigner put in the URL is verified like a header, metadata is stored.
 */
function hoistPresignedHeaders(headers: OpContext['headers'], query: URLSearchParams): OpContext['headers'] {
  let out: OpContext['headers'] | undefined;
  for (const [name, value] of query) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-amz-') || PRESIGN_AUTH_PARAMS.has(lower) || headers[lower] !== undefined) continue;
    out ??= { ...headers };
    // as the header would arrive: its UTF-8 bytes (gateway/header-text.ts)
    out[lower] = textAsHeader(value);
  }
  return out ?? headers;
}

/** a request body follows the headers (a malformed Content-Length counts: the body reader refuses it) */
function carriesBody(h: OpContext['headers']): boolean {
  return h['transfer-encoding'] !== undefined || Number(h['content-length'] ?? 0) !== 0;
}

/** A Node request listener that answers S3 requests; it never rejects. */
export type S3Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The gateway's S3 pipeline, a plain Node request handler: no framework between node:http
 * and the operations, so bodies stream with back-pressure and a request makes no
 * Request/Response objects (nor loads Node's fetch implementation at start).
 */
export function createS3Handler(svc: Services, opts: AppOptions): S3Handler {
  const nextId = requestIds();
  const observer = opts.observer;

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // a request another region forwarded keeps the id that region gave it (the client sees one id)
    const via = svc.forwardedBy?.(req);
    const requestId = via?.requestId ?? nextId();
    const trace = observer?.begin(req, res, requestId);
    // the signing key's record is kept for the access check (its bucket roles)
    let keyRecord: AccessKeyRecord | undefined;
    const lookup: KeyLookup = async (id) => {
      keyRecord = await svc.layer.getAccessKey(id);
      return keyRecord ? { secretAccessKey: keyRecord.secretAccessKey, root: keyRecord.root } : undefined;
    };
    const method = req.method ?? 'GET';
    const headOnly = method === 'HEAD';
    let resource = req.url ?? '/';
    try {
      const addr = resolveAddress(req.url ?? '/', req.headers.host, opts.domain);
      resource = addr.rawPath;
      const query = new URLSearchParams(addr.rawQuery);
      checkNameLengths(addr.bucket, addr.key, query, req.headers['x-amz-copy-source']);
      let headers = req.headers as OpContext['headers'];
      // a multipart upload another region created is served there, before anything is checked here
      const owner = svc.forward && uploadOwner(svc, { method, bucket: addr.bucket, key: addr.key, query, headers });
      if (owner) {
        if (trace) Object.assign(trace, { op: owner.op, bucket: addr.bucket, key: addr.key });
        await svc.forward!(req, res, { region: owner.region, requestId, subject: 'The multipart upload' });
        return;
      }
      // CORS: the preflight is unauthenticated; other requests from a page get their headers first
      if (method === 'OPTIONS') {
        await writeResult(res, await preflight(svc, addr.bucket, req.headers), requestId, false);
        return;
      }
      if (req.headers.origin !== undefined && addr.bucket) await setCorsHeaders(svc, res, addr.bucket, method, req.headers);
      const op = resolveOperation({ method, bucket: addr.bucket, key: addr.key, query, headers });
      if (trace) {
        trace.op = op.name;
        trace.bucket = addr.bucket;
        trace.key = addr.key;
      }
      const authOpts = { sigv2: svc.sigv2 !== false, regions: svc.signingRegions, ...(addr.virtualHost && addr.bucket ? { virtualHostBucket: addr.bucket } : {}) };
      const auth = await verifyRequest({ method, rawPath: addr.rawPath, rawQuery: addr.rawQuery, headers }, lookup, authOpts);
      if (trace) trace.accessKey = auth.accessKeyId;
      if (auth.presigned) headers = hoistPresignedHeaders(headers, query);
      // a home-region bucket, or a consistent request, is executed by the region that decides it
      // (forward/bucket-route.ts): its signature is checked here first, the rest is the other region's
      // (forwarded here already: served here, unless this is the control region passing on a
      // request for a bucket its sender did not know yet)
      const routed = svc.forward && svc.homeOf && svc.control !== undefined && addr.bucket && (!via || svc.region === svc.control);
      const route = routed ? await bucketRoute({ ...svc, homeOf: svc.homeOf!, control: svc.control! }, { bucket: addr.bucket!, op: op.name, headers, uploadId: query.get('uploadId') }) : undefined;
      if (route) {
        await svc.forward!(req, res, { region: route.region, requestId, unreachable: unreachableMessage(route, addr.bucket!), ...ROUTE_TIMEOUTS, ...(route.why === 'home' ? { route: 'home' as const } : {}) });
        return;
      }
      // forwarded here for a bucket whose creation may still be on its way (forward/arrival.ts)
      if (via && addr.bucket && op.name !== 'CreateBucket') await awaitForwardedBucket(svc, addr.bucket, via.route === 'home' ? svc.region : undefined);
      if (op.name === 'MethodNotAllowed') throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: addr.key ? 'OBJECT' : 'BUCKET' });
      await authorize(svc, auth, keyRecord, { op: op.name, bucket: addr.bucket, key: addr.key, query, headers, ...connectionOf(req.socket) });
      const found = withCannedAcl(op.name, handlerFor(op.name));
      const handler = found && shadowed(svc.shadow, op.name, found);
      if (!handler) throw new S3Error('NotImplemented', `${op.name} is not implemented by Erne.`);
      const ctx: OpContext = { requestId, op, bucket: addr.bucket ?? '', key: addr.key ?? '', query, headers, req, auth, svc };
      // a body the operation has no use for is still checked against its signature before
      // anything changes, so a tampered request is refused rather than half-obeyed
      if (!readsBody(op.name) && carriesBody(headers)) await readSmallBody(ctx);
      const result = await handler(ctx);
      await writeResult(res, result, requestId, headOnly);
    } catch (err) {
      const s3 = toS3Error(err);
      if (trace) {
        trace.code = s3.code;
        if (s3.code === 'InternalError' || s3.status >= 500) trace.cause = err;
      }
      if (s3.code === 'InternalError') opts.log?.(`request ${requestId} ${method} ${resource} failed: ${(err as Error)?.stack ?? String(err)}`);
      // an unread request body (a refused upload) is not read to its end: the connection closes,
      // after a short linger so the client reads the refusal rather than a reset (linger.ts)
      if (!req.complete && !res.headersSent) {
        res.setHeader('connection', 'close');
        lingerOnClose(req);
      }
      writeError(res, s3, requestId, resource, headOnly);
    }
  };

  return async (req, res) => {
    // what is left of a body the operation did not read to its end is dropped after the answer,
    // so the keep-alive connection can carry the next request (linger.ts)
    if (carriesBody(req.headers)) drainAfterAnswer(req, res);
    try {
      await serve(req, res);
    } catch (err) {
      // serve answers its own failures; this is one outside that (a bug): still an S3 answer,
      // never an unanswered request or an unhandled rejection
      const requestId = nextId();
      opts.log?.(`request ${requestId} ${req.method} ${req.url} failed outside its handler: ${(err as Error)?.stack ?? String(err)}`);
      try {
        if (!req.complete && !res.headersSent) {
          res.setHeader('connection', 'close');
          lingerOnClose(req);
        }
        writeError(res, new S3Error('InternalError'), requestId, (req.url ?? '/').split('?')[0]!, req.method === 'HEAD');
      } catch {
        res.destroy();
      }
    }
  };
}
