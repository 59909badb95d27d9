import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PROMETHEUS_CONTENT_TYPE, type Registry } from './metrics.js';

/**
 * The operator endpoints: GET/HEAD /.erne/health, /.erne/ready, /.erne/metrics and, in a
 * cluster, /.erne/replication (the status document `erne replication status` reads). A bucket
 * name never starts with '.', so on path-style requests these paths can never be S3; on a
 * virtual-host request (Host: <bucket>.<domain>) the same path is an object key and goes to
 * S3 as usual.
 */
export const OPS_PREFIX = '/.erne/';

export interface ReadyCheck {
  /** one metadata read */
  metadata(): Promise<unknown>;
  /** the volume directory a probe file is written to and removed from */
  volumeDir: string;
}

export interface OpsOptions {
  registry: Registry;
  ready: ReadyCheck;
  /** virtual-host base domain: requests to <bucket>.<domain> are S3 */
  domain?: string;
  /** per-check limit (default 2 s): a hung store is not ready */
  timeoutMs?: number;
  /** in a cluster: the replication status document (replication/monitor.ts) */
  replication?: () => Promise<unknown>;
  /** reads sampled gauges (replication depths) before /.erne/metrics is rendered; bounded by timeoutMs */
  beforeMetrics?: () => Promise<unknown>;
}

const OPS_PATHS = new Set(['/.erne/health', '/.erne/ready', '/.erne/metrics', '/.erne/replication']);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function readiness(check: ReadyCheck, timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {};
  const run = async (name: string, fn: () => Promise<unknown>) => {
    try {
      await withTimeout(fn(), timeoutMs, name);
      checks[name] = 'ok';
    } catch (err) {
      checks[name] = (err as Error).message || String(err);
    }
  };
  await Promise.all([
    run('metadata', check.metadata),
    run('volume', async () => {
      // a small write, not just access(): a full or read-only volume must show here
      const probe = join(check.volumeDir, `.ready-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await writeFile(probe, 'ready\n');
      } finally {
        await rm(probe, { force: true });
      }
    }),
  ]);
  return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
}

/** True when the request is for an operator endpoint (checked before S3 sees it). */
export function isOpsRequest(req: IncomingMessage, domain?: string): boolean {
  const url = req.url ?? '';
  if (!url.startsWith(OPS_PREFIX)) return false;
  // exactly these: other /.erne/ paths belong to the gateway-to-gateway endpoint
  if (!OPS_PATHS.has(url.split('?', 1)[0]!)) return false;
  if (domain) {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (host.endsWith('.' + domain.toLowerCase())) return false;
  }
  return true;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

/** Answers an operator request (isOpsRequest was true). */
export function createOpsHandler(opts: OpsOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
    }
    try {
      switch (path) {
        case '/.erne/health':
          return send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }) + '\n', head);
        case '/.erne/ready': {
          const r = await readiness(opts.ready, opts.timeoutMs);
          return send(res, r.ready ? 200 : 503, 'application/json', JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks }) + '\n', head);
        }
        case '/.erne/metrics':
          // a gauge that could not be read in time keeps its last value
          if (opts.beforeMetrics) await withTimeout(opts.beforeMetrics(), opts.timeoutMs ?? 2000, 'replication status').catch(() => undefined);
          return send(res, 200, PROMETHEUS_CONTENT_TYPE, opts.registry.render(), head);
        case '/.erne/replication':
          if (!opts.replication) return send(res, 404, 'text/plain; charset=utf-8', 'this gateway is not one region of a cluster (erne serve --cluster FILE)\n', head);
          return send(res, 200, 'application/json', JSON.stringify(await opts.replication()) + '\n', head);
        default:
          return send(res, 404, 'text/plain; charset=utf-8', 'not found: /.erne/health, /.erne/ready, /.erne/metrics, /.erne/replication\n', head);
      }
    } catch (err) {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${(err as Error).message}\n`, head);
      else res.destroy();
    }
  };
}
