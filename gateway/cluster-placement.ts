/**
 * What a gateway in a cluster adds for bucket locations and the replication status: the
 * placement endpoint (gateway/internal-placement.ts), the client that pushes a write's bytes to
 * the regions its bucket lists, and x-amz-replication-status read from the outbox.
 */
import type { Change } from '../metadata/changes.js';
import { Outbox, outboxId } from '../metadata/outbox.js';
import type { ObjectVersion } from '../metadata/types.js';
import { applyHeldVersion } from '../replication/held-apply.js';
import { PlacementClient } from '../replication/placement.js';
import type { Placement } from './context.js';
import { createPlacementHandler, type PlacementEndpointDeps } from './internal-placement.js';

/** the region's metadata (placed versions are applied to it without an outbox entry: their committer has one) */
export type ClusterPlacementDeps = PlacementEndpointDeps;

export function clusterPlacement(d: ClusterPlacementDeps) {
  const client = new PlacementClient(d.topology);
  const outbox = new Outbox(d.kv);
  const placement: Placement = {
    client,
    hereApply: (createdAt, version, blob) => applyHeldVersion(d.kv, createdAt, version, blob, d.observe),
    async discardHere(blob) {
      if (blob.node === d.blobs.nodeId && !(await d.layer.isBlobReferenced(blob.blobId))) await d.blobs.delete(blob.blobId);
    },
  };
  /** PENDING while the version's outbox entry waits for some region, then COMPLETED; REPLICA where it was received */
  async function replicationStatus(v: ObjectVersion): Promise<string> {
    if (v.region !== d.topology.self) return 'REPLICA';
    const change: Change = { kind: 'version', bucketCreatedAt: 0, version: { ...v, body: undefined } };
    return (await outbox.has(outboxId(change))) ? 'PENDING' : 'COMPLETED';
  }
  return {
    placement,
    replicationStatus,
    handler: createPlacementHandler(d),
    close: () => client.close(),
  };
}
