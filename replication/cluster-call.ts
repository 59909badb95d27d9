/**
 * A request to another region that wants an answer: msgpack in, msgpack out, signed with the
 * cluster secret (replication/cluster-auth.ts). The region's gateways are tried in turn until
 * one answers; a region none of whose gateways answers is RegionUnreachable.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { keepAliveAgents } from '../gateway/keep-alive-agents.js';
import { pack, unpack } from 'msgpackr';
import { signClusterRequest } from './cluster-auth.js';
import { regionInfo, type Topology } from './topology.js';

export class RegionUnreachable extends Error {
  constructor(
    readonly region: string,
    detail: string,
  ) {
    super(`region ${region} cannot be reached: ${detail}`);
    this.name = 'RegionUnreachable';
  }
}

export interface CallAnswer {
  status: number;
  /** the decoded msgpack body (undefined when there was none) */
  body: unknown;
}

export class ClusterCaller {
  private readonly agents = keepAliveAgents({ maxSockets: 16 });

  constructor(
    private readonly topology: Topology,
    private readonly timeoutMs = 10_000,
  ) {}

  async call(region: string, path: string, payload: unknown): Promise<CallAnswer> {
    const info = regionInfo(this.topology, region);
    if (!info) throw new RegionUnreachable(region, 'not in the cluster');
    const body = pack(payload);
    const bodySha256 = createHash('sha256').update(body).digest('hex');
    const failures: string[] = [];
    for (const base of info.internal) {
      const headers = signClusterRequest(this.topology.secret, { method: 'POST', target: path, bodySha256, region: this.topology.self });
      try {
        const r = await this.post(new URL(path, base), headers, body);
        // a gateway that answers 5xx on its own behalf may have a sibling that works
        if (r.status >= 500 && r.status !== 503) {
          failures.push(`${base}: ${r.status}`);
          continue;
        }
        return r;
      } catch (err) {
        failures.push(`${base}: ${(err as Error).message}`);
      }
    }
    throw new RegionUnreachable(region, failures.join('; '));
  }

  close(): void {
    this.agents.destroy();
  }

  private post(url: URL, headers: Record<string, string>, body: Buffer): Promise<CallAnswer> {
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        { method: 'POST', agent: this.agents.agentFor(secure), headers: { ...headers, 'content-type': 'application/msgpack', 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => {
            const raw = Buffer.concat(chunks);
            let decoded: unknown;
            try {
              decoded = raw.length > 0 && res.headers['content-type'] === 'application/msgpack' ? unpack(raw) : raw.toString('utf8');
            } catch {
              decoded = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: decoded });
          });
          res.once('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.once('error', reject);
      req.end(body);
    });
  }
}
