/**
 * What a region's metadata remembers of the cluster it was last served in: its own name and
 * the other regions. `erne serve` writes it at start; tools that write the metadata directly
 * (`erne keys`, `erne buckets`) read it, so what they change is recorded in the outbox and
 * replicates like a change made through a gateway (whose relay picks it up).
 *
 *   ('cfg', 'cluster') → { self, peers }   (absent, or no peers: one region)
 */
import type { ChangeSink } from './changes.js';
import type { KvStore } from './kv.js';
import { outboxSink } from './outbox.js';
import { decode, encode } from './records.js';
import { pack } from './tuple.js';

const kCluster = pack(['cfg', 'cluster']);

export interface ClusterRecord {
  self: string;
  peers: string[];
}

export async function recordCluster(kv: KvStore, rec: ClusterRecord | undefined): Promise<void> {
  await kv.transact(async (tx) => (rec && rec.peers.length > 0 ? tx.set(kCluster, encode(rec)) : tx.clear(kCluster)));
}

export async function readCluster(kv: KvStore): Promise<ClusterRecord | undefined> {
  const raw = await kv.read((tx) => tx.get(kCluster));
  return raw && decode<ClusterRecord>(raw);
}

/** the writer options a tool uses on this metadata: the served region and, in a cluster, the outbox */
export async function toolWriter(kv: KvStore, fallbackRegion: string): Promise<{ region: string; changes?: ChangeSink }> {
  const rec = await readCluster(kv);
  return rec ? { region: rec.self, changes: outboxSink(rec.peers) } : { region: fallbackRegion };
}
