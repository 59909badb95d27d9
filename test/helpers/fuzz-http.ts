/**
 * The fuzzer's wire: requests as plain data (duplicate headers, any bytes in the path, any
 * Content-Length), signed with aws4 (or, for paths aws4 refuses to parse, a byte-wise SigV4
 * of our own written from the AWS spec), serialised by hand and sent over a raw TCP socket,
 * and a small HTTP/1.1 response reader that tolerates whatever comes back.
 */
import { createHash, createHmac } from 'node:crypto';
import net from 'node:net';
import aws4 from 'aws4';
import { REGION, type Creds } from './gateway.js';

export interface FuzzRequest {
  method: string;
  /** as sent (percent-encoded where the test wants it) */
  path: string;
  /** without '?' */
  query: string;
  /** in order; duplicates allowed */
  headers: Array<[string, string]>;
  body: Buffer;
  /** 'auto': the body's length; 'omit': no Content-Length at all; else sent verbatim */
  contentLength: 'auto' | 'omit' | string;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export type FuzzOutcome = { kind: 'response'; res: FuzzResponse } | { kind: 'closed'; partial: string } | { kind: 'timeout' };

export const sha256Hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const hmac = (k: Buffer | string, d: string): Buffer => createHmac('sha256', k).update(d).digest();

export function amzDate(d: Date): string {
  return d.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

export function getHeader(req: FuzzRequest, name: string): string | undefined {
  const l = name.toLowerCase();
  return req.headers.find(([n]) => n.toLowerCase() === l)?.[1];
}

export function setHeader(req: FuzzRequest, name: string, value: string): void {
  removeHeader(req, name);
  req.headers.push([name, value]);
}

export function removeHeader(req: FuzzRequest, name: string): void {
  const l = name.toLowerCase();
  req.headers = req.headers.filter(([n]) => n.toLowerCase() !== l);
}

/** byte-wise percent decoding (lenient: a stray '%' stays) then strict RFC 3986 encoding */
function strictEncode(s: string, plus: boolean): string {
  const src = Buffer.from(s, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const hex = src.subarray(i + 1, i + 3).toString('latin1');
    if (src[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(plus && src[i] === 0x2b ? 0x20 : src[i]!);
  }
  return bytes.map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0'))).join('');
}

/** SigV4 by hand, for requests aws4 cannot parse (invalid UTF-8 escapes in the path) */
function signByHand(req: FuzzRequest, creds: Creds, date: string): string {
  const names = [...new Set(req.headers.map(([n]) => n.toLowerCase()))].sort();
  const canonHeaders = names.map((n) => `${n}:${req.headers.filter(([h]) => h.toLowerCase() === n).map(([, v]) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`).join('');
  const query = req.query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return [strictEncode(eq < 0 ? p : p.slice(0, eq), true), strictEncode(eq < 0 ? '' : p.slice(eq + 1), true)];
    })
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
  const uri = req.path.split('/').map((s) => strictEncode(s, false)).join('/');
  const payload = getHeader(req, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
  const canon = [req.method, uri, query, canonHeaders, names.join(';'), payload].join('\n');
  const scope = `${date.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canon)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date.slice(0, 8)), REGION), 's3'), 'aws4_request');
  const sig = createHmac('sha256', key).update(sts).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
}

/**
 * Adds Host, X-Amz-Date, X-Amz-Content-Sha256 (of the body, unless present) and
 * Authorization. Duplicate headers present before signing are signed as one joined value.
 */
export function signRequest(req: FuzzRequest, creds: Creds, host: string, when = new Date()): FuzzRequest {
  const out: FuzzRequest = { ...req, headers: [...req.headers] };
  if (!getHeader(out, 'host')) out.headers.unshift(['Host', host]);
  if (!getHeader(out, 'x-amz-date')) out.headers.push(['X-Amz-Date', amzDate(when)]);
  if (!getHeader(out, 'x-amz-content-sha256')) out.headers.push(['X-Amz-Content-Sha256', sha256Hex(out.body)]);
  const date = getHeader(out, 'x-amz-date')!;
  const obj: Record<string, string> = {};
  for (const [n, v] of out.headers) obj[n] = obj[n] !== undefined ? `${obj[n]},${v}` : v;
  let authorization: string;
  try {
    const signed = aws4.sign(
      { service: 's3', region: REGION, method: out.method, host: getHeader(out, 'host'), path: out.query ? `${out.path}?${out.query}` : out.path, headers: obj },
      creds,
    );
    authorization = (signed.headers as Record<string, string>)['Authorization']!;
  } catch {
    authorization = signByHand(out, creds, date);
  }
  out.headers.push(['Authorization', authorization]);
  return out;
}

export function serialize(req: FuzzRequest): Buffer {
  const target = req.query ? `${req.path}?${req.query}` : req.path;
  let head = `${req.method} ${target} HTTP/1.1\r\n`;
  for (const [n, v] of req.headers) if (n.toLowerCase() !== 'content-length') head += `${n}: ${v}\r\n`;
  const given = req.headers.filter(([n]) => n.toLowerCase() === 'content-length');
  if (req.contentLength === 'auto' && given.length === 0) head += `Content-Length: ${req.body.length}\r\n`;
  else if (req.contentLength !== 'auto' && req.contentLength !== 'omit') head += `Content-Length: ${req.contentLength}\r\n`;
  for (const [n, v] of given) head += `${n}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), req.body]);
}

/** A complete response in `buf`, or undefined when more bytes are needed. */
function parseResponse(buf: Buffer, method: string, ended: boolean): FuzzResponse | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  // interim answers (100 Continue) come before the real one
  if (/^HTTP\/1\.[01] 1\d\d/.test(buf.subarray(0, 12).toString('latin1'))) return parseResponse(buf.subarray(end + 4), method, ended);
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    const name = l.slice(0, i).trim().toLowerCase();
    headers[name] = headers[name] !== undefined ? `${headers[name]}, ${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
  }
  const rest = buf.subarray(end + 4);
  if (method === 'HEAD' || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    return rest.length >= n ? { status, headers, body: rest.subarray(0, n) } : undefined;
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = rest.indexOf('\r\n', at);
      if (nl < 0) return undefined;
      const size = parseInt(rest.subarray(at, nl).toString('latin1'), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(parts) };
      if (rest.length < nl + 2 + size + 2) return undefined;
      parts.push(rest.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
  }
  return ended ? { status, headers, body: rest } : undefined;
}

export interface SendOptions {
  /** end our side right after sending (for requests whose body is deliberately short) */
  halfClose?: boolean;
  timeoutMs?: number;
}

/** Sends raw bytes on a fresh connection; resolves with the first response, a close, or a timeout. */
export function sendRaw(port: number, bytes: Buffer, method: string, opts: SendOptions = {}): Promise<FuzzOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (o: FuzzOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ kind: 'timeout' }), opts.timeoutMs ?? 5000);
    const tryParse = (ended: boolean) => {
      try {
        const res = parseResponse(buf, method.toUpperCase(), ended);
        if (res) done({ kind: 'response', res });
        else if (ended) done({ kind: 'closed', partial: buf.toString('latin1').slice(0, 200) });
      } catch (err) {
        done({ kind: 'closed', partial: `unparseable: ${(err as Error).message}` });
      }
    };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      tryParse(false);
    });
    sock.on('end', () => tryParse(true));
    sock.on('close', () => tryParse(true));
    sock.on('error', () => undefined);
    sock.write(bytes, () => {
      if (opts.halfClose) sock.end();
    });
  });
}

/**
 * An aws-chunked body with chunk signatures chained from the request's seed signature
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), as the AWS "chunked upload" page describes it.
 */
export function chunkedBody(data: Buffer, chunkSize: number, authorization: string, date: string, creds: Creds): Buffer {
  let prev = /Signature=([0-9a-f]{64})/.exec(authorization)?.[1] ?? '';
  const scope = `${date.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date.slice(0, 8)), REGION), 's3'), 'aws4_request');
  const out: Buffer[] = [];
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  for (const c of chunks) {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', date, scope, prev, sha256Hex(''), sha256Hex(c)].join('\n');
    prev = createHmac('sha256', key).update(sts).digest('hex');
    out.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`), c, Buffer.from('\r\n'));
  }
  return Buffer.concat(out);
}

/** the encoded length of chunkedBody(data, chunkSize, …) */
export function chunkedLength(size: number, chunkSize: number): number {
  let n = 0;
  for (let left = size; ; left -= chunkSize) {
    const c = Math.max(0, Math.min(chunkSize, left));
    n += c.toString(16).length + ';chunk-signature='.length + 64 + 2 + c + 2;
    if (c === 0) return n;
  }
}
