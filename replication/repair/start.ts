/** The repair service of a gateway in a cluster, wired to HTTP peers and this region's store. */
import type { KvStore } from '../../metadata/kv.js';
import { Outbox } from '../../metadata/outbox.js';
import type { Hlc } from '../../metadata/types.js';
import { applyChanges } from '../apply.js';
import { ClusterCaller } from '../cluster-call.js';
import { HttpPeer } from '../http-peer.js';
import { peersOf, type Topology } from '../topology.js';
import type { LowWaterMarks } from './horizon.js';
import { HttpRepairPeer } from './http-repair-peer.js';
import { RepairService } from './service.js';

export interface RepairSettings {
  /** ms between scheduled passes; 0: on demand only */
  intervalMs?: number;
  /** how long past every region's acknowledgement a version stays repairable (tombstones are kept that long) */
  graceMs?: number;
  /** how long a transaction may take to commit after taking its time */
  inflightMs?: number;
}

export function startRepair(o: { kv: KvStore; topology: Topology; observe: (hlc: Hlc) => void; log: (line: string) => void; schedule: boolean; settings?: RepairSettings }) {
  // a pass reads pages of up to 10,000 entries: allow it longer than a delivery
  const caller = new ClusterCaller(o.topology, 60_000);
  const http = new HttpPeer(o.topology, { timeoutMs: 60_000 });
  const peers = peersOf(o.topology).map((r) => new HttpRepairPeer(r.name, caller, http));
  const service = new RepairService({
    kv: o.kv,
    self: o.topology.self,
    regions: o.topology.regions.map((r) => r.name),
    peers,
    askMarks: async (region) => peers.find((p) => p.region === region)?.marks(),
    outbox: new Outbox(o.kv),
    apply: (changes) => applyChanges(o.kv, changes, { observe: o.observe }),
    intervalMs: o.schedule ? o.settings?.intervalMs : 0,
    graceMs: o.settings?.graceMs,
    inflightMs: o.settings?.inflightMs,
    log: o.log,
  });
  service.start();
  return {
    service,
    async close() {
      await service.close();
      caller.close();
      http.close();
    },
  };
}

export type { LowWaterMarks };
