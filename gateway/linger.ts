/**
 * A refused request whose body the client is still sending: the connection must close, but
 * not before the client can read the refusal. Closing with unread bytes makes the kernel
 * reset the connection, and a reset throws away the answer on the client's side too (it sees
 * EPIPE or ECONNRESET instead of its 403 or 404, and retries or fails without the reason).
 * So, as web servers do ("lingering close"), once the answer is out the write side is ended
 * and what the client still sends is read and dropped — for at most LINGER_MS and
 * LINGER_BYTES — before the socket is destroyed.
 */
import type { IncomingMessage } from 'node:http';
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
