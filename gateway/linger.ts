/**
 * A refused request whose body the client is still sending: the connection must close, but
 * not before the client can read the refusal. Closing with unread bytes makes the kernel
 * reset the connection, and a reset throws away the answer on the client's side too (it sees
 * EPIPE or ECONNRESET instead of its 403 or 404, and retries or fails without the reason).
 * So, as web servers do ("lingering close"), once the answer is out the write side is ended
 * and what the client still sends is read and dropped — for at most LINGER_MS and
 * LINGER_BYTES — before the socket is destroyed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export const LINGER_MS = 2_000;
export const LINGER_BYTES = 16 * 1024 * 1024;

/** call before answering a request whose body was not read (the answer says connection: close) */
export function lingerOnClose(req: IncomingMessage): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  if (!socket || socket.destroyed) return;
  // node's server ends a 'connection: close' answer with socket.destroySoon(), which destroys
  // the socket as soon as the answer is written: here it half-closes and drains instead
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    let read = 0;
    const done = () => {
      clearTimeout(timer);
      this.destroy();
    };
    const timer = setTimeout(done, LINGER_MS);
    timer.unref();
    this.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > LINGER_BYTES) done();
    });
    this.once('end', done);
    this.once('error', done);
    // the body may have been half read and then left paused: drop the rest as it comes
    req.unpipe();
    req.resume();
    this.resume();
  };
}

/** after a keep-alive answer, what is left of the request body is read for at most this long and this many bytes */
export const DRAIN_MS = 500;
export const DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Call when a request with a body arrives. Once its answer is out, what is left of a body the
 * operation did not read to its end (an operation that answers without it, or stopped midway)
 * is read and dropped, so the keep-alive connection can carry the next request; a body that
 * goes on for more than DRAIN_MS or DRAIN_BYTES closes the connection instead. (Node drops a
 * body nobody started reading on its own, without bounds; one left half read would hold the
 * connection until its timeouts.) An answer that closes the connection (lingerOnClose, or the
 * client's Connection: close) is left to that.
 */
export function drainAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.once('close', () => {
    if (req.readableEnded) return;
    // the request's last bytes and its 'end' may be on their way through the event loop
    setImmediate(() => {
      const socket = req.socket as (Socket & { destroySoon?: () => void }) | null;
      if (req.readableEnded || req.destroyed || !socket || socket.destroyed || !socket.writable) return;
      let read = 0;
      const stop = (): void => {
        clearTimeout(timer);
        req.off('data', onData);
        req.off('end', stop);
        req.off('error', stop);
      };
      const cut = (): void => {
        stop();
        if (socket.destroyed) return;
        if (socket.destroySoon) socket.destroySoon();
        else socket.destroy();
      };
      const onData = (chunk: Buffer): void => {
        read += chunk.length;
        if (read > DRAIN_BYTES) cut();
      };
      const timer = setTimeout(cut, DRAIN_MS);
      timer.unref();
      req.on('data', onData);
      req.once('end', stop);
      req.once('error', stop);
      req.resume();
    });
  });
}
