/**
 * A TCP proxy that delays every byte by a fixed one-way latency in each direction, put by
 * `erne dev --latency` in front of each region's internal endpoint so regions on one machine
 * talk as if they were far apart. It streams: each chunk is forwarded on its own once its
 * delay has passed (never a whole message at once), in order, with back-pressure, and a
 * half-close (one side ends) travels with the same delay as the bytes before it.
 *
 * A cut proxy (cut()) resets the open connections and new ones until heal(), as a partition does.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LatencyProxyOptions {
  /** where the delayed traffic goes */
  target: { host: string; port: number };
  /** added to each direction, in milliseconds */
  delayMs: number;
  host?: string;
  /** 0 (default): any free port */
  port?: number;
}

export interface LatencyProxy {
  host: string;
  port: number;
  /** http://host:port, for a cluster file */
  url: string;
  /** drop every connection and refuse new ones until heal() */
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

/** bytes held in the delay line per direction before the sender is paused */
const HIGH_WATER = 4 * 1024 * 1024;

export async function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  const host = opts.host ?? '127.0.0.1';
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    if (cut) return void client.resetAndDestroy();
    const upstream = net.connect({ host: opts.target.host, port: opts.target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      // either side failing ends the pair: the other side sees a reset, as through a real hop
      s.once('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    delayLine(client, upstream, opts.delayMs);
    delayLine(upstream, client, opts.delayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    url: `http://${host}:${port}`,
    cut() {
      cut = true;
      // a reset, not a polite FIN: the peer sees the connection fail as a partition makes it
      for (const s of open) s.resetAndDestroy();
    },
    heal() {
      cut = false;
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Held {
  due: number;
  /** null: the sender ended its side */
  chunk: Buffer | null;
}

/** forwards from → to, each chunk delayMs after it arrived */
function delayLine(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: Held[] = [];
  let held = 0;
  let timer: NodeJS.Timeout | undefined;
  let draining = false;

  const flowControl = () => {
    if (held > HIGH_WATER || draining) from.pause();
    else from.resume();
  };
  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && !draining) {
      const head = queue[0]!;
      const wait = head.due - performance.now();
      // timers may fire a little early by the wall clock: never forward before the delay is up
      if (wait > 0) {
        timer = setTimeout(pump, Math.ceil(wait));
        break;
      }
      queue.shift();
      if (head.chunk === null) {
        to.end();
        return;
      }
      held -= head.chunk.length;
      if (to.destroyed) return;
      if (!to.write(head.chunk)) {
        draining = true;
        to.once('drain', () => {
          draining = false;
          flowControl();
          pump();
        });
      }
    }
    flowControl();
  };
  const hold = (chunk: Buffer | null) => {
    queue.push({ due: performance.now() + delayMs, chunk });
    if (chunk) held += chunk.length;
    flowControl();
    if (timer === undefined && !draining) pump();
  };
  from.on('data', (chunk: Buffer) => hold(chunk));
  from.once('end', () => hold(null));
  // a side that goes away abruptly takes its pair with it (after the bytes already in flight
  // would have arrived, they are dropped: a reset loses them on a real network too)
  from.once('close', (hadError) => {
    if (hadError) to.destroy();
  });
}
