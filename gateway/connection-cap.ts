/**
 * Connections per client address. Without a cap one client holding hundreds of idle
 * connections used up the process's file descriptors, and nobody else (health checks
 * included) could connect until they timed out. Over the cap a new connection is closed at
 * once; below the descriptor limit some headroom stays free for files, the metadata store and
 * the operator port (--metrics-port), which has no cap.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

/** descriptors kept free of S3 connections */
const FD_HEADROOM = 128;

export class ConnectionCap {
  private readonly open = new Map<string, number>();
  /** connections closed at once because their address was at the cap */
  refused = 0;

  constructor(private readonly perClient: number) {}

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
    const nofile = openFileLimit();
    if (nofile !== undefined) server.maxConnections = Math.max(16, nofile - FD_HEADROOM);
  }

  private admit(socket: Socket): void {
    const addr = socket.remoteAddress ?? '';
    const n = this.open.get(addr) ?? 0;
    if (n >= this.perClient) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.open.set(addr, n + 1);
    socket.once('close', () => {
      const left = (this.open.get(addr) ?? 1) - 1;
      if (left > 0) this.open.set(addr, left);
      else this.open.delete(addr);
    });
  }
}

/** the soft limit on open files (Linux /proc), or undefined where it cannot be read */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
