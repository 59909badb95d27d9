/**
 * The apply request between regions as bytes: `POST /.erne/internal/replication/apply` with a
 * msgpack body `{ changes: Change[] }`, signed with the cluster secret (cluster-auth.ts).
 * Shared by the sender (http-peer.ts) and the receiver (gateway/internal-replication.ts).
 */
import { Packr } from 'msgpackr';
import type { Change } from '../metadata/changes.js';

export const APPLY_PATH = '/.erne/internal/replication/apply';
/** the largest apply body a region accepts (a batch is a few changes; inline bodies are ≤ 64 KiB) */
export const MAX_APPLY_BODY_BYTES = 16 * 1024 * 1024;

// plain msgpack maps (no record extension), so any msgpack reader understands the body
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface ApplyBody {
  changes: Change[];
}

export function encodeApplyBody(changes: Change[]): Buffer {
  return packr.pack({ changes } satisfies ApplyBody);
}

export class MalformedApplyBody extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedApplyBody';
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (o: Record<string, unknown>, ...names: string[]) => names.every((n) => typeof o[n] === 'string');
const num = (o: Record<string, unknown>, ...names: string[]) => names.every((n) => typeof o[n] === 'number' && Number.isFinite(o[n]));

/**
 * Why a decoded change cannot be one, or undefined when its shape is right. Kinds this
 * version does not know pass: applying them answers "not ready" (the sender keeps them
 * until the receiver is upgraded) rather than dropping them.
 */
function shapeProblem(c: unknown): string | undefined {
  if (!isObj(c) || typeof c['kind'] !== 'string') return 'a change must be a map with a "kind"';
  switch (c['kind']) {
    case 'version': {
      const v = c['version'];
      if (!num(c, 'bucketCreatedAt') || !isObj(v) || !str(v, 'bucket', 'key', 'versionId', 'region', 'etag', 'owner')) return 'a version change lacks its version';
      if (!isObj(v['hlc']) || !num(v['hlc'], 'wall', 'logical') || !num(v, 'size', 'lastModified')) return 'a version change lacks its version';
      if (!['headers', 'userMetadata', 'checksums'].every((n) => v[n] === undefined || isObj(v[n]))) return 'a version change has malformed headers';
      const b = v['body'];
      if (b === undefined) return undefined;
      if (isObj(b) && b['kind'] === 'inline' && b['data'] instanceof Uint8Array) return undefined;
      if (isObj(b) && b['kind'] === 'remote' && typeof b['region'] === 'string') return undefined;
      return 'a version body must be inline bytes or a remote region';
    }
    case 'purge':
      return num(c, 'bucketCreatedAt') && str(c, 'bucket', 'key', 'versionId', 'stamp') ? undefined : 'a purge lacks its version';
    case 'version-register':
      return num(c, 'bucketCreatedAt') && str(c, 'bucket', 'key', 'versionId', 'name', 'stamp') ? undefined : 'a version register is incomplete';
    case 'bucket-register':
      return str(c, 'bucket', 'name', 'stamp') ? undefined : 'a bucket register is incomplete';
    case 'access-key':
      return str(c, 'accessKeyId', 'stamp') ? undefined : 'an access-key change is incomplete';
    default:
      return undefined;
  }
}

/** the changes of an apply body; MalformedApplyBody when it is not one */
export function decodeApplyBody(bytes: Uint8Array): Change[] {
  let doc: unknown;
  try {
    doc = packr.unpack(bytes);
  } catch (err) {
    throw new MalformedApplyBody(`the body is not msgpack: ${(err as Error).message}`);
  }
  if (!isObj(doc) || !Array.isArray(doc['changes'])) throw new MalformedApplyBody('the body must be a map with a "changes" list');
  for (const [i, c] of (doc['changes'] as unknown[]).entries()) {
    const problem = shapeProblem(c);
    if (problem) throw new MalformedApplyBody(`changes[${i}]: ${problem}`);
  }
  return doc['changes'] as Change[];
}
