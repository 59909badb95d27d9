/**
 * Authentication of an S3 request one region forwards to another. The client's own SigV4
 * stays on the request (the receiving region verifies it again, body included, with the same
 * replicated keys); what the forwarding region adds is signed with the cluster secret
 * (replication/cluster-auth.ts) over the method and the target, so the receiver can trust the
 * loop guard and the request id: a client that sends `x-erne-forwarded-from` itself is not
 * served as forwarded, and a forward is never forwarded again. The body is not covered by
 * this signature (it streams through, and the client's signature covers it as the client
 * chose), which the body-hash field says.
 */
import type { IncomingMessage } from 'node:http';
import { CLUSTER_HEADERS, NonceWindow, signClusterRequest, verifyClusterRequest } from '../../replication/cluster-auth.js';

/** the arriving region's id for the request, kept by the region that serves it */
export const FORWARDED_REQUEST_ID = 'x-erne-request-id';
/** the body-hash field of a forward's signature: its body is the client's, under the client's signature */
export const CLIENT_SIGNED_BODY = 'client-signed';

/** why the request was forwarded, when it is a home-region bucket's ('home'); see forward/arrival.ts */
export const FORWARDED_ROUTE = 'x-erne-route';

const REQUEST_ID = /^[0-9A-F]{8,32}$/;

/** headers a client must not choose on a forwarded request: the ones this module signs or sets */
export function isForwardHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('x-erne-cluster-') || n === FORWARDED_REQUEST_ID || n === FORWARDED_ROUTE;
}

/** what a forward adds to the request's headers, as name/value pairs */
export function forwardHeaders(secret: string, self: string, method: string, target: string, requestId: string, route?: 'home'): string[] {
  const signed = signClusterRequest(secret, { method, target, bodySha256: CLIENT_SIGNED_BODY, region: self });
  return [...Object.entries(signed).flat(), FORWARDED_REQUEST_ID, requestId, ...(route ? [FORWARDED_ROUTE, route] : [])];
}

export interface Forwarded {
  /** the region that forwarded the request */
  from: string;
  /** its id for the request, when it sent a well-formed one */
  requestId?: string;
  /** 'home': forwarded because the sender holds the bucket as homed here */
  route?: 'home';
}

/** Recognises a request another region of the cluster forwarded here (undefined: a client's own). */
export function forwardVerifier(secret: string): (req: IncomingMessage) => Forwarded | undefined {
  const nonces = new NonceWindow();
  return (req) => {
    if (req.headers[CLUSTER_HEADERS.signature] === undefined) return undefined;
    const v = verifyClusterRequest(secret, req.method ?? 'GET', req.url ?? '/', req.headers, nonces);
    if (!v.ok || v.bodySha256 !== CLIENT_SIGNED_BODY) return undefined;
    const id = req.headers[FORWARDED_REQUEST_ID];
    return { from: v.region, ...(typeof id === 'string' && REQUEST_ID.test(id) ? { requestId: id } : {}), ...(req.headers[FORWARDED_ROUTE] === 'home' ? { route: 'home' as const } : {}) };
  };
}
