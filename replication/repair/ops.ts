/**
 * The repair requests between regions (and from `erne replication repair`), all on one path:
 * `POST /.erne/internal/replication/repair`, a msgpack op in and a msgpack answer out, signed
 * with the cluster secret (cluster-auth.ts). `answerRepairOp` is the receiving side without
 * HTTP (gateway/internal-repair.ts carries it); http-repair-peer.ts is the sending side.
 */
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import type { LowWaterMarks } from './horizon.js';
import { localHello, type RepairHello } from './pass.js';
import type { Entry, KeyRange, Summary } from './range-tree.js';
import { changesFor } from './changes-for.js';
import { INDEX_SPACES, KvIndexSide, type IndexScope, type IndexSpace } from './version-index.js';
import type { RepairRun } from './service.js';

export const REPAIR_PATH = '/.erne/internal/replication/repair';
/** the largest list a peer may ask for in one request */
export const MAX_OP_ITEMS = 10_000;

export type RepairOp =
  | { op: 'hello'; bucket?: string }
  | { op: 'summarize'; scope: IndexScope; range: KeyRange; cuts: string[] }
  | { op: 'split'; scope: IndexScope; range: KeyRange; parts: number }
  | { op: 'entries'; scope: IndexScope; range: KeyRange; limit: number }
  | { op: 'changes'; bucket: string; space: IndexSpace; keys: string[] }
  | { op: 'marks' }
  /** from the operator: a pass with every peer now, and a collection round */
  | { op: 'run'; bucket?: string };

export type RepairAnswer = RepairHello | Summary[] | { cuts: string[]; summaries: Summary[] } | Entry[] | { changes: Change[] } | LowWaterMarks | RepairRun;

export class BadRepairOp extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRepairOp';
  }
}

export interface RepairOpDeps {
  kv: KvStore;
  self: string;
  marks(): Promise<LowWaterMarks>;
  run?(bucket?: string): Promise<RepairRun>;
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const hex = (x: unknown): x is string => isStr(x) && /^[0-9a-f]*$/.test(x) && x.length % 2 === 0;

function checkScope(s: unknown): IndexScope {
  const o = s as Partial<IndexScope> | null;
  if (!o || !isStr(o.bucket) || !INDEX_SPACES.includes(o.space as IndexSpace) || typeof o.floorMs !== 'number') throw new BadRepairOp('a scope names a bucket, an index space and a floor');
  return { bucket: o.bucket, space: o.space as IndexSpace, floorMs: o.floorMs };
}

function checkRange(r: unknown): KeyRange {
  const o = r as Partial<KeyRange> | null;
  if (!o || !hex(o.lo) || (o.hi !== undefined && !hex(o.hi))) throw new BadRepairOp('a range is hex keys lo (and hi)');
  return o.hi === undefined ? { lo: o.lo } : { lo: o.lo, hi: o.hi };
}

function checkKeys(k: unknown): string[] {
  if (!Array.isArray(k) || k.length > MAX_OP_ITEMS || !k.every(hex)) throw new BadRepairOp(`a list of at most ${MAX_OP_ITEMS} hex keys`);
  return k as string[];
}

export async function answerRepairOp(deps: RepairOpDeps, op: RepairOp): Promise<RepairAnswer> {
  switch (op?.op) {
    case 'hello':
      return localHello(deps.kv, deps.self, isStr(op.bucket) ? op.bucket : undefined);
    case 'summarize':
      return new KvIndexSide(deps.kv, checkScope(op.scope)).summarize(checkRange(op.range), checkKeys(op.cuts));
    case 'split':
      return new KvIndexSide(deps.kv, checkScope(op.scope)).split(checkRange(op.range), Math.min(256, Math.max(2, Number(op.parts) || 16)));
    case 'entries':
      return new KvIndexSide(deps.kv, checkScope(op.scope)).entries(checkRange(op.range), Math.min(MAX_OP_ITEMS, Math.max(1, Number(op.limit) || 1)));
    case 'changes': {
      if (!isStr(op.bucket) || !INDEX_SPACES.includes(op.space)) throw new BadRepairOp('changes names a bucket and an index space');
      return { changes: await changesFor(deps.kv, deps.self, op.bucket, op.space, checkKeys(op.keys)) };
    }
    case 'marks':
      return deps.marks();
    case 'run':
      if (!deps.run) throw new BadRepairOp('this gateway does not run repairs (only the process that delivers replication does)');
      return deps.run(isStr(op.bucket) ? op.bucket : undefined);
    default:
      throw new BadRepairOp('unknown repair operation');
  }
}
