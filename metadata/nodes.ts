/**
 * The region's gateways, as the shared metadata knows them: each node registers the URL its
 * internal endpoint answers on, so a gateway lacking a version's bytes can fetch them from the
 * node that holds them. Also the region secret that authenticates those internal requests,
 * made once by whichever gateway starts first (a transaction, so racing starters agree).
 *
 *   ('n', nodeId)        → { internalUrl, updatedAt }
 *   ('s', 'internal')    → 32 random bytes
 */
import { randomBytes } from 'node:crypto';
import type { KvStore } from './kv.js';
import { decode, encode } from './records.js';
import { pack } from './tuple.js';

export interface NodeRecord {
  nodeId: string;
  /** base URL of the node's internal endpoint, e.g. http://10.0.0.5:9000 */
  internalUrl: string;
  /** ms since epoch of the last registration */
  updatedAt: number;
}

const kNode = (nodeId: string) => pack(['n', nodeId]);
const kSecret = pack(['s', 'internal']);

export async function registerNode(kv: KvStore, nodeId: string, internalUrl: string): Promise<void> {
  const rec = { internalUrl, updatedAt: Date.now() };
  await kv.transact(async (tx) => tx.set(kNode(nodeId), encode(rec)));
}

export async function getNode(kv: KvStore, nodeId: string): Promise<NodeRecord | undefined> {
  const v = await kv.read((tx) => tx.get(kNode(nodeId)));
  if (!v) return undefined;
  const r = decode<{ internalUrl: string; updatedAt: number }>(v);
  return { nodeId, internalUrl: r.internalUrl, updatedAt: r.updatedAt };
}

/** the region's secret for gateway-to-gateway requests, created on first use */
export async function regionSecret(kv: KvStore): Promise<Buffer> {
  const made = randomBytes(32);
  const v = await kv.transact(async (tx) => {
    const cur = await tx.get(kSecret);
    if (cur) return cur;
    tx.set(kSecret, made);
    return made;
  });
  return Buffer.from(v);
}
