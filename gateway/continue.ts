/**
 * Expect: 100-continue. Left to itself node answers `100 Continue` to every such request at
 * once, so a client the gateway will refuse sends its whole body anyway. Instead the answer is
 * held until the body is first read (openBody, the POST form reader): by then the request is
 * authenticated and authorized and its handler has found the bucket (and upload) it needs. A
 * request refused before that gets its final status and never sends its body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

const held = new WeakMap<Readable, ServerResponse>();

/** server 'checkContinue': the request expects 100 Continue; say it when its body is read */
export function holdContinue(req: IncomingMessage, res: ServerResponse): void {
  held.set(req, res);
}

/** the body of `req` is about to be read: say 100 Continue if the client waits for it */
export function sendContinue(req: Readable): void {
  const res = held.get(req);
  if (!res) return;
  held.delete(req);
  if (!res.headersSent && !res.writableEnded) res.writeContinue();
}
