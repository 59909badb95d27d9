/**
 * The repair endpoint (replication/repair/ops.ts): `POST /.erne/internal/replication/repair`,
 * a msgpack op in, a msgpack answer out. Signed with the cluster secret like every request
 * between regions; `erne replication repair` signs with it too (as region "operator").
 *   200 the answer · 400 a malformed op · 401 not signed with the cluster secret · 500 failed
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pack, unpack } from 'msgpackr';
import { NonceWindow, verifyClusterRequest } from '../replication/cluster-auth.js';
import { answerRepairOp, BadRepairOp, REPAIR_PATH, type RepairOp, type RepairOpDeps } from '../replication/repair/ops.js';

export { REPAIR_PATH };

const MAX_BODY = 4 * 1024 * 1024;

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) + 1 });
  res.end(message + '\n');
}

function readSmallBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.once('end', () => resolve(size <= MAX_BODY ? Buffer.concat(chunks) : undefined));
    req.once('error', () => resolve(undefined));
  });
}

export function createRepairHandler(secret: string, deps: RepairOpDeps, log?: (line: string) => void) {
  const nonces = new NonceWindow();
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '/';
    if (req.method !== 'POST') return reply(res, 405, 'POST only');
    const auth = verifyClusterRequest(secret, 'POST', target, req.headers, nonces);
    if (!auth.ok) return reply(res, 401, `cluster authentication failed: ${auth.reason}`);
    const body = await readSmallBody(req);
    if (!body) return reply(res, 413, `a repair request is at most ${MAX_BODY} bytes`);
    if (createHash('sha256').update(body).digest('hex') !== auth.bodySha256) return reply(res, 401, 'cluster authentication failed: the body does not match its signed hash');
    let op: RepairOp;
    try {
      op = unpack(body) as RepairOp;
    } catch {
      return reply(res, 400, 'malformed repair request: not msgpack');
    }
    let answer: unknown;
    try {
      answer = await answerRepairOp(deps, op);
    } catch (err) {
      if (err instanceof BadRepairOp) return reply(res, 400, `malformed repair request: ${err.message}`);
      log?.(`repair: ${String(op?.op)} for ${auth.region} failed: ${(err as Error).message}`);
      return reply(res, 500, `repair ${String(op?.op)} failed: ${(err as Error).message}`);
    }
    const out = pack(answer);
    res.writeHead(200, { 'content-type': 'application/msgpack', 'content-length': out.length });
    res.end(out);
  };
}
