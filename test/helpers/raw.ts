/**
 * Hand-made HTTP requests to the gateway, signed with the `aws4` package (SigV4, header
 * auth) and sent with node:http, for what SDKs refuse to send: wrong signatures, bad
 * digests, malformed XML, raw Range headers, explicit Host headers, chunked uploads
 * without Content-Length.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';
import aws4 from 'aws4';
import { XMLParser } from 'fast-xml-parser';
import { REGION, ROOT, type Creds } from './gateway.js';

export interface RawRequest {
  method: string;
  /** path as sent, already percent-encoded where it should be (avoid a literal '+') */
  path: string;
  /** query string without '?', e.g. 'delete=' or 'list-type=2&prefix=a' */
  query?: string;
  headers?: Record<string, string>;
  /** a Buffer/string is hashed into x-amz-content-sha256 (unless given); a stream is sent as UNSIGNED-PAYLOAD */
  body?: Buffer | string | Readable;
  /** null: send without any authentication */
  creds?: Creds | null;
  /** Host header (default 127.0.0.1:<port>) — for virtual-host style */
  host?: string;
  /** send the body with Transfer-Encoding: chunked and no Content-Length */
  chunked?: boolean;
  /** change headers after signing (e.g. corrupt the signature) */
  tamper?: (headers: Record<string, string>) => void;
  /** sign as of this date (for clock-skew tests) */
  date?: Date;
  /** sign for this region (default REGION) */
  region?: string;
  /** headers sent but left out of SignedHeaders (lower-case names, e.g. 'host') */
  unsignedHeaders?: string[];
  /** build the body after signing from the signed headers (aws-chunked chunk signatures) */
  bodyAfterSign?: (headers: Record<string, string>) => Buffer;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function md5Base64(data: Buffer | string): string {
  return createHash('md5').update(data).digest('base64');
}

function amzDate(d: Date): string {
  return d.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/** Signs (unless creds is null) and sends one request; resolves with the whole response. */
export function rawRequest(gw: { url: string }, req: RawRequest): Promise<RawResponse> {
  const url = new URL(gw.url);
  const host = req.host ?? url.host;
  const isStream = req.body !== undefined && typeof req.body !== 'string' && !Buffer.isBuffer(req.body);
  const headers: Record<string, string> = { Host: host, ...(req.headers ?? {}) };
  if (req.date) headers['X-Amz-Date'] = amzDate(req.date);
  const fullPath = req.query ? `${req.path}?${req.query}` : req.path;
  let sendPath = fullPath;
  const creds = req.creds === undefined ? ROOT : req.creds;

  if (creds) {
    const hasHash = Object.keys(headers).some((h) => h.toLowerCase() === 'x-amz-content-sha256');
    if (!hasHash) {
      headers['X-Amz-Content-Sha256'] = isStream ? 'UNSIGNED-PAYLOAD' : sha256Hex((req.body as Buffer | string | undefined) ?? '');
    }
    const signed = aws4.sign(
      {
        service: 's3',
        region: req.region ?? REGION,
        method: req.method,
        host,
        path: fullPath,
        headers,
        // aws4 adds Content-Length/Type from a body; we set them ourselves below
        doNotModifyHeaders: false,
        ...(req.unsignedHeaders ? { extraHeadersToIgnore: Object.fromEntries(req.unsignedHeaders.map((h) => [h, true])) } : {}),
      },
      creds,
    );
    sendPath = signed.path ?? fullPath;
    // aws4 signs a copy of the headers
    Object.assign(headers, signed.headers as Record<string, string>);
  }
  if (req.tamper) req.tamper(headers);

  const body = req.bodyAfterSign ? req.bodyAfterSign(headers) : req.body;
  if (!req.chunked && !isStream) {
    const len = body === undefined ? 0 : Buffer.byteLength(body as Buffer | string);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length') && (len > 0 || req.method === 'PUT' || req.method === 'POST')) {
      headers['Content-Length'] = String(len);
    }
  } else {
    for (const h of Object.keys(headers)) if (h.toLowerCase() === 'content-length') delete headers[h];
    headers['Transfer-Encoding'] = 'chunked';
  }

  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: sendPath, headers, agent: false, setHost: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const b = Buffer.concat(parts);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    if (body === undefined) r.end();
    else if (isStream) (body as Readable).pipe(r);
    else if (req.chunked) {
      // several writes so the request really is multi-chunk
      const buf = Buffer.from(body as Buffer | string);
      const step = Math.max(1, Math.ceil(buf.length / 3));
      for (let i = 0; i < buf.length; i += step) r.write(buf.subarray(i, i + step));
      r.end();
    } else r.end(body);
  });
}

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

/** Parses any S3 XML document; returns the object under its root element. */
export function parseXml(text: string): Record<string, unknown> {
  const doc = xml.parse(text) as Record<string, unknown>;
  const root = Object.keys(doc).find((k) => k !== '?xml');
  return (root ? doc[root] : {}) as Record<string, unknown>;
}

export interface S3ErrorBody {
  Code?: string;
  Message?: string;
  Resource?: string;
  RequestId?: string;
  [k: string]: unknown;
}

/** The <Error> document of an S3 error response (throws if the body is not one). */
export function parseError(text: string): S3ErrorBody {
  const doc = xml.parse(text) as { Error?: S3ErrorBody };
  if (!doc.Error) throw new Error(`not an S3 error document: ${text.slice(0, 300)}`);
  return doc.Error;
}
