/**
 * Reading or copying a key's current version while other regions write it. This region's
 * idea of the current version can be a moment behind: the region that holds its bytes may
 * already have replaced it (an unversioned overwrite drops the loser's bytes) or dropped it,
 * and the change that did so is still on its way here. Or a replicated write replaced it
 * here between two steps of one request. A request that met its version gone waits, briefly,
 * for this region's current version to move on, and starts over on the new one; one that
 * named a version id is never retried.
 */
import type { ObjectLayer } from '../../metadata/object-layer.js';
import { S3Error } from '../errors.js';

/** the version a request was working on is gone (from the region holding its bytes, or from here) */
export class VersionGone extends S3Error {
  override readonly name = 'VersionGone';
  constructor(
    readonly versionId: string,
    message: string,
  ) {
    super('ServiceUnavailable', message);
  }
}

/**
 * How long a request goes on starting over: a key overwritten in several regions faster than
 * writes replicate can meet its version gone several times in a row, each time for about a
 * replication lag. Past this, the 503 is the answer.
 */
const SETTLE_MS = 2_000;
const POLL_MS = 20;

/** runs `op` on the key's current version, again on the next current version when it meets its version gone */
export async function onCurrentVersion<T>(layer: Pick<ObjectLayer, 'getObject'>, bucket: string, key: string, op: () => Promise<T>): Promise<T> {
  const until = Date.now() + SETTLE_MS;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof VersionGone) || !(await movedOn(layer, bucket, key, err.versionId, until))) throw err;
    }
  }
}

/** true once the key's current version is not `versionId` (another one, or none); false if still it at `until` */
async function movedOn(layer: Pick<ObjectLayer, 'getObject'>, bucket: string, key: string, versionId: string, until: number): Promise<boolean> {
  for (;;) {
    const current = await layer.getObject(bucket, key).then(
      (v) => v.versionId,
      () => undefined,
    );
    if (current !== versionId) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
