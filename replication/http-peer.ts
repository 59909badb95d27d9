/**
 * The PeerPort over HTTP: a batch of changes is POSTed, signed with the cluster secret, to
 * the destination region's internal endpoint. A region lists several gateway URLs: one that
 * cannot be reached (or answers 5xx) is skipped for the next. Only 204 means applied; any
 * other answer throws, so the worker's job is retried and nothing is acknowledged.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { keepAliveAgents } from '../gateway/keep-alive-agents.js';
import type { Change } from '../metadata/changes.js';
import { signClusterRequest } from './cluster-auth.js';
import type { PeerPort } from './ports.js';
import type { Topology } from './topology.js';
import { regionInfo } from './topology.js';
import { APPLY_PATH, encodeApplyBody } from './wire.js';

export class PeerError extends Error {
  constructor(
    message: string,
    /** the HTTP status the region answered, when it answered */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PeerError';
  }
}

export interface HttpPeerOptions {
  /** a request that has not completed by then counts as failed; default 10 s */
  timeoutMs?: number;
}

export class HttpPeer implements PeerPort {
  private readonly agents = keepAliveAgents({ maxSockets: 64 });
  /** per region, the index of the URL that last answered (tried first next time) */
  private readonly preferred = new Map<string, number>();

  constructor(
    private readonly topology: Topology,
    private readonly opts: HttpPeerOptions = {},
  ) {}

  async send(dest: string, changes: Change[]): Promise<void> {
    const region = regionInfo(this.topology, dest);
    if (!region) throw new PeerError(`region ${dest} is not in the cluster`);
    const body = encodeApplyBody(changes);
    const bodySha256 = createHash('sha256').update(body).digest('hex');
    const urls = region.internal;
    const first = this.preferred.get(dest) ?? 0;
    const failures: string[] = [];
    for (let i = 0; i < urls.length; i++) {
      const at = (first + i) % urls.length;
      // signed per attempt: each carries its own nonce
      const headers = signClusterRequest(this.topology.secret, { method: 'POST', target: APPLY_PATH, bodySha256, region: this.topology.self });
      const r = await this.post(urls[at]!, headers, body).catch((err: Error) => ({ status: 0, text: err.message }));
      if (r.status === 204) {
        this.preferred.set(dest, at);
        return;
      }
      // the region answered: another of its gateways would answer the same
      if (r.status >= 400 && r.status < 500) throw new PeerError(`region ${dest} (${urls[at]}) answered ${r.status}: ${r.text}`, r.status);
      failures.push(`${urls[at]}: ${r.status === 0 ? r.text : `${r.status} ${r.text}`}`);
    }
    throw new PeerError(`region ${dest} could not be reached: ${failures.join('; ')}`);
  }

  close(): void {
    this.agents.destroy();
  }

  private post(base: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
    const url = new URL(APPLY_PATH, base);
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agents.agentFor(secure),
          headers: { ...headers, 'content-type': 'application/msgpack', 'content-length': String(body.length) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text.length < 500) text += d;
          });
          res.once('end', () => resolve({ status: res.statusCode ?? 0, text: text.trim() }));
          res.once('error', reject);
        },
      );
      req.setTimeout(this.opts.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer within ${this.opts.timeoutMs ?? 10_000} ms`)));
      req.once('error', reject);
      req.end(body);
    });
  }
}
