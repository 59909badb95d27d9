/**
 * A peer region for a repair pass, over HTTP: the repair ops (ops.ts) through the cluster
 * caller, and the changes it lacks through its ordinary apply endpoint (http-peer.ts).
 */
import type { Change } from '../../metadata/changes.js';
import { RegionUnreachable, type ClusterCaller } from '../cluster-call.js';
import { PeerError, type HttpPeer } from '../http-peer.js';
import type { LowWaterMarks } from './horizon.js';
import { REPAIR_PATH, type RepairOp } from './ops.js';
import type { RepairHello, RepairPeer } from './pass.js';
import type { Entry, IndexSide, KeyRange, Summary } from './range-tree.js';
import type { IndexScope, IndexSpace } from './version-index.js';

export class RepairCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RepairCallError';
  }
}

export async function callRepair<T>(caller: ClusterCaller, region: string, op: RepairOp): Promise<T> {
  let r;
  try {
    r = await caller.call(region, REPAIR_PATH, op);
  } catch (err) {
    // a kept-alive connection the peer closed while this side scanned its own index is reset
    // on reuse: every op is a read (or joins a run under way), so asking again is safe
    if (!(err instanceof RegionUnreachable)) throw err;
    r = await caller.call(region, REPAIR_PATH, op);
  }
  if (r.status !== 200) throw new RepairCallError(`region ${region} answered ${r.status} to repair ${op.op}: ${typeof r.body === 'string' ? r.body.trim().slice(0, 200) : ''}`);
  return r.body as T;
}

export class HttpRepairPeer implements RepairPeer {
  constructor(
    readonly region: string,
    private readonly caller: ClusterCaller,
    private readonly peer: HttpPeer,
  ) {}

  hello(bucket?: string): Promise<RepairHello> {
    return callRepair(this.caller, this.region, bucket === undefined ? { op: 'hello' } : { op: 'hello', bucket });
  }

  side(scope: IndexScope): IndexSide {
    const call = <T>(op: RepairOp) => callRepair<T>(this.caller, this.region, op);
    return {
      summarize: (range: KeyRange, cuts: string[]) => call<Summary[]>({ op: 'summarize', scope, range, cuts }),
      split: (range: KeyRange, parts: number) => call<{ cuts: string[]; summaries: Summary[] }>({ op: 'split', scope, range, parts }),
      entries: (range: KeyRange, limit: number) => call<Entry[]>({ op: 'entries', scope, range, limit }),
    };
  }

  async changes(bucket: string, space: IndexSpace, keys: string[]): Promise<Change[]> {
    return (await callRepair<{ changes: Change[] }>(this.caller, this.region, { op: 'changes', bucket, space, keys })).changes;
  }

  async apply(changes: Change[]): Promise<void> {
    try {
      await this.peer.send(this.region, changes);
    } catch (err) {
      // the bucket has not reached it yet: replication will bring it, and the next pass the rest
      if (err instanceof PeerError && err.status === 409) return;
      throw err;
    }
  }

  marks(): Promise<LowWaterMarks> {
    return callRepair(this.caller, this.region, { op: 'marks' });
  }
}
