/**
 * Bytes that live on another node's volume, read through this node's remote cache
 * (cache/remote-cache.ts). Used for versions whose blob another gateway of the region wrote,
 * and by the multipart part reader for parts that another gateway received.
 */
import { Readable } from 'node:stream';
import type { ByteRange } from '../cache/types.js';
import type { Services } from './context.js';
import { S3Error } from './errors.js';

/**
 * A stream of blob `blobId` (or a range of it) held by `node`. Returned at once, like a
 * local blob read: nothing is fetched until the stream is first read (a HEAD never fetches),
 * and a failure surfaces as a stream error (the response is then cut, as for a local read).
 */
export function openRemoteBlob(svc: Pick<Services, 'remote'>, node: string, blobId: string, range?: ByteRange): Readable {
  const remote = svc.remote;
  if (!remote) throw new S3Error('ServiceUnavailable', 'The object is stored on another node and this gateway has no route to it.');
  return lazyStream(() => remote.open({ id: blobId, source: node }, range));
}

/** a Readable that opens its source on the first read and forwards it with back-pressure */
function lazyStream(open: () => Promise<Readable>): Readable {
  let source: Readable | undefined;
  let opening = false;
  const out = new Readable({
    highWaterMark: 1024 * 1024,
    read() {
      if (source) {
        source.resume();
        return;
      }
      if (opening) return;
      opening = true;
      open().then(
        (s) => {
          source = s;
          if (out.destroyed) {
            s.destroy();
            return;
          }
          s.on('data', (chunk: Buffer) => {
            if (!out.push(chunk)) s.pause();
          });
          s.once('end', () => out.push(null));
          s.once('error', (err) => out.destroy(err));
        },
        (err: Error) => out.destroy(err),
      );
    },
    destroy(err, cb) {
      source?.destroy();
      cb(err);
    },
  });
  return out;
}
