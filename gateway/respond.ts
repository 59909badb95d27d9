import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error } from './errors.js';
import type { OpResult } from './context.js';
import { renderXml } from './xml.js';

/** Writes a handler's result to the Node response, streaming object bodies with back-pressure. */
export async function writeResult(res: ServerResponse, result: OpResult, requestId: string, headOnly: boolean): Promise<void> {
  const headers: Record<string, string | number> = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId };
  for (const [k, v] of Object.entries(result.headers ?? {})) if (v !== undefined) headers[k] = v;
  let body = result.body;
  if (result.xml) {
    body = renderXml(result.xml.root, result.xml.value, true, result.xml.tail);
    headers['content-type'] = 'application/xml';
  }
  if (typeof body === 'string') body = Buffer.from(body);
  if (Buffer.isBuffer(body) && headers['content-length'] === undefined) headers['content-length'] = body.length;
  if (body === undefined && headers['content-length'] === undefined && result.status !== 304 && result.status !== 204) headers['content-length'] = 0;
  res.writeHead(result.status ?? 200, headers);
  if (headOnly || body === undefined) {
    if (body instanceof Readable) body.destroy();
    res.end();
    return;
  }
  if (Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  // a failure mid-body cannot become an S3 error any more: the status is sent, so the
  // connection is cut and the client sees a short body, never a silently truncated object
  await pipeline(body, res).catch((err) => {
    res.destroy(err as Error);
  });
}

export function writeError(res: ServerResponse, err: S3Error, requestId: string, resource: string, headOnly: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const value: Record<string, unknown> = { Code: err.code, Message: err.message, ...err.detail, Resource: resource, RequestId: requestId };
  const text = renderXml('Error', value, false);
  const headers: Record<string, string | number> = {
    'x-amz-request-id': requestId,
    'x-amz-id-2': requestId,
    'content-type': 'application/xml',
    ...err.headers,
  };
  if (err.status === 304) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['content-length'] = headOnly ? 0 : Buffer.byteLength(text);
  res.writeHead(err.status, headers);
  res.end(headOnly ? undefined : text);
}
