/**
 * What the fuzzer accepts as an answer: a success (unless the request must fail), or a
 * well-formed S3 XML error whose status is the catalogue's for its code. Anything else is a
 * finding.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3_ERRORS, isS3ErrorCode } from '../../gateway/errors.js';
import type { FuzzOutcome } from './fuzz-http.js';

export interface Verdict {
  /** undefined: acceptable */
  problem?: string;
  /** e.g. "200", "400 InvalidArgument", "closed" */
  label: string;
  unexpected5xx: boolean;
  rejected: boolean;
}

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

/**
 * `mayClose`: the request was deliberately incomplete (the client half-closed), so the
 * server may drop it without an answer. `mustFail`: the request was broken after signing
 * (signature, signed path/query/method/date/payload hash): no success (2xx or 304) is right.
 */
export function judge(o: FuzzOutcome, method: string, mayClose: boolean, mustFail = false): Verdict {
  if (o.kind === 'timeout') return { problem: 'no answer within the deadline (hang)', label: 'timeout', unexpected5xx: false, rejected: true };
  if (o.kind === 'closed') {
    if (mayClose || method.toUpperCase() === 'CONNECT') return { label: 'closed', unexpected5xx: false, rejected: true };
    return { problem: `connection closed without an answer (${JSON.stringify(o.partial)})`, label: 'closed', unexpected5xx: false, rejected: true };
  }
  const { status, headers, body } = o.res;
  const head = method.toUpperCase() === 'HEAD';
  if (!headers['x-amz-request-id']) return { problem: `status ${status} without x-amz-request-id`, label: String(status), unexpected5xx: status >= 500, rejected: status >= 300 };
  if (status < 300 || status === 304) {
    if (mustFail) return { problem: `status ${status}: a request broken after signing was accepted`, label: String(status), unexpected5xx: false, rejected: false };
    // object bytes carry an ETag and may be anything, whatever their stored Content-Type
    const objectBytes = headers['etag'] !== undefined || status === 206;
    if (!objectBytes && /xml/.test(headers['content-type'] ?? '') && body.length > 0 && XMLValidator.validate(body.toString('utf8')) !== true) {
      return { problem: `status ${status} with a malformed XML body`, label: String(status), unexpected5xx: false, rejected: false };
    }
    return { label: String(status), unexpected5xx: false, rejected: false };
  }
  if (head) {
    // no body to read the code from: the status must at least be one of the catalogue's
    const known = Object.values(S3_ERRORS).some(([s]) => s === status);
    const unexpected = status >= 500 && status !== 501;
    const problem = !known ? `HEAD answered ${status}` : unexpected ? `HEAD answered ${status}` : undefined;
    return { problem, label: `${status} (HEAD)`, unexpected5xx: unexpected, rejected: true };
  }
  const text = body.toString('utf8');
  let err: { Code?: string; Message?: string; RequestId?: string } | undefined;
  try {
    if (XMLValidator.validate(text) === true) err = (xml.parse(text) as { Error?: typeof err }).Error;
  } catch {
    err = undefined;
  }
  const label = `${status} ${err?.Code ?? '?'}`;
  const unexpected5xx = status >= 500 && err?.Code !== 'NotImplemented';
  if (!err) return { problem: `status ${status} without an S3 <Error> document: ${JSON.stringify(text.slice(0, 200))}`, label, unexpected5xx, rejected: true };
  if (!err.Code || err.Message === undefined || !err.RequestId) return { problem: `error document lacks Code/Message/RequestId: ${text.slice(0, 300)}`, label, unexpected5xx, rejected: true };
  if (!isS3ErrorCode(err.Code)) return { problem: `unknown error code ${err.Code}`, label, unexpected5xx, rejected: true };
  if (S3_ERRORS[err.Code][0] !== status) return { problem: `${err.Code} sent with status ${status}, catalogue says ${S3_ERRORS[err.Code][0]}`, label, unexpected5xx, rejected: true };
  if (unexpected5xx) return { problem: `unexpected ${status} ${err.Code}: ${err.Message}`, label, unexpected5xx, rejected: true };
  return { label, unexpected5xx, rejected: true };
}
