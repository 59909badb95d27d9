/**
 * The cluster file `erne dev` writes for its gateways (replication/topology.ts's format): every
 * region with the internal URL other regions reach it on (its latency proxy, when there is
 * one), the first region as the control region. The secret is not written here: the gateways
 * get it as ERNE_CLUSTER_SECRET, and it is kept with the keys in credentials.json.
 */
import { writeFileSync } from 'node:fs';
import type { RegionInfo } from '../../replication/topology.js';

export const CLUSTER_FILE = 'cluster.json';

export interface ClusterFileDoc {
  control: string;
  regions: RegionInfo[];
}

/** regions in the order given: the first one is the control region */
export function clusterDoc(regions: { name: string; internalUrl: string }[]): ClusterFileDoc {
  return { control: regions[0]!.name, regions: regions.map((r) => ({ name: r.name, internal: [r.internalUrl] })) };
}

export function writeClusterFile(path: string, doc: ClusterFileDoc): void {
  writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
}
