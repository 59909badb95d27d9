/**
 * A signed request whose body the test sends piece by piece (UNSIGNED-PAYLOAD), to see what
 * the gateway answers before it has the whole body: a refusal that arrives while the rest is
 * still held back was decided without reading it. Also sends `Expect: 100-continue` and
 * reports whether the gateway said `100 Continue`.
 */
import http from 'node:http';
import aws4 from 'aws4';
import { REGION, ROOT, type Creds } from './gateway.js';

export interface HeldRequestOptions {
  method: string;
  /** path as sent, e.g. '/bucket/key' */
  path: string;
  /** query string without '?' */
  query?: string;
  headers?: Record<string, string>;
  /** the Content-Length announced (the body is written with `write`) */
  contentLength: number;
  /** null: anonymous; default the root key */
  creds?: Creds | null;
  /** send Expect: 100-continue */
  expectContinue?: boolean;
}

export interface HeldResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface HeldRequest {
  /** body bytes written so far */
  readonly sent: number;
  /** whether the gateway answered 100 Continue */
  readonly continued: boolean;
  /** resolves once the gateway said 100 Continue (never, if it does not) */
  readonly continue: Promise<void>;
  /** the final response, whole */
  readonly response: Promise<HeldResponse>;
  /** writes a piece of the body and waits until it is handed to the socket (false: the connection is gone) */
  write(piece: Buffer | string): Promise<boolean>;
  /** drops the connection */
  destroy(): void;
}

export function holdRequest(gw: { url: string }, o: HeldRequestOptions): HeldRequest {
  const url = new URL(gw.url);
  const headers: Record<string, string> = { Host: url.host, 'Content-Length': String(o.contentLength), ...(o.headers ?? {}) };
  if (o.expectContinue) headers['Expect'] = '100-continue';
  const fullPath = o.query ? `${o.path}?${o.query}` : o.path;
  const creds = o.creds === undefined ? ROOT : o.creds;
  if (creds) {
    headers['X-Amz-Content-Sha256'] = 'UNSIGNED-PAYLOAD';
    const signed = aws4.sign({ service: 's3', region: REGION, method: o.method, host: url.host, path: fullPath, headers }, creds);
    Object.assign(headers, signed.headers as Record<string, string>);
  }
  let sent = 0;
  let continued = false;
  let gone = false;
  const r = http.request({ host: url.hostname, port: url.port, method: o.method, path: fullPath, headers, agent: false, setHost: false });
  const cont = new Promise<void>((resolve) =>
    r.once('continue', () => {
      continued = true;
      resolve();
    }),
  );
  const response = new Promise<HeldResponse>((resolve, reject) => {
    r.once('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', (err) => {
      gone = true;
      reject(err);
    });
  });
  // a refusal closes the connection while the test may still be writing: that is expected
  response.catch(() => undefined);
  r.on('close', () => (gone = true));
  r.flushHeaders();
  return {
    get sent() {
      return sent;
    },
    get continued() {
      return continued;
    },
    continue: cont,
    response,
    write(piece) {
      if (gone || r.destroyed) return Promise.resolve(false);
      return new Promise((resolve) => {
        r.write(piece, (err) => {
          if (!err) sent += Buffer.byteLength(piece);
          resolve(!err);
        });
      });
    },
    destroy() {
      r.destroy();
    },
  };
}

/** Resolves with p, or rejects naming what did not happen within ms (a failing test, not a wait). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (nothing within ${ms} ms)`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
