/**
 * A small SigV4 signer for the load generator: header auth, UNSIGNED-PAYLOAD, the signing
 * key cached per day and the x-amz-date cached per second, so a signature costs one SHA-256
 * of the canonical request and one HMAC chain step, not the four HMACs of a fresh key. It
 * signs exactly three headers (host, x-amz-content-sha256, x-amz-date), which is all S3 asks.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SignerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service?: string;
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone) */
export function uriEncode(s: string, keepSlash = false): string {
  const out = encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? out.replace(/%2F/g, '/') : out;
}

/** query parameters, canonically sorted and encoded; a value of '' keeps the '=' */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(query[k]!)}`)
    .join('&');
}

export class Signer {
  private readonly service: string;
  private day = '';
  private key: Buffer = Buffer.alloc(0);
  private second = -1;
  private stamp = '';

  constructor(private readonly opts: SignerOptions) {
    this.service = opts.service ?? 's3';
  }

  private amzDate(now: number): string {
    const sec = Math.floor(now / 1000);
    if (sec !== this.second) {
      this.second = sec;
      this.stamp = new Date(sec * 1000).toISOString().replace(/[:-]|\.\d{3}/g, '');
    }
    return this.stamp;
  }

  private signingKey(day: string): Buffer {
    if (day !== this.day) {
      const h = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
      this.key = h(h(h(h('AWS4' + this.opts.secretAccessKey, day), this.opts.region), this.service), 'aws4_request');
      this.day = day;
    }
    return this.key;
  }

  /**
   * Headers to add to a request. `path` is already URI-encoded (as sent); `query` is the
   * canonical query string (see canonicalQuery).
   */
  sign(method: string, host: string, path: string, query: string, now = Date.now()): Record<string, string> {
    const date = this.amzDate(now);
    const day = date.slice(0, 8);
    const payload = 'UNSIGNED-PAYLOAD';
    const canonical = `${method}\n${path}\n${query}\nhost:${host}\nx-amz-content-sha256:${payload}\nx-amz-date:${date}\n\nhost;x-amz-content-sha256;x-amz-date\n${payload}`;
    const scope = `${day}/${this.opts.region}/${this.service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(day)).update(toSign).digest('hex');
    return {
      'x-amz-content-sha256': payload,
      'x-amz-date': date,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.opts.accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
    };
  }
}
