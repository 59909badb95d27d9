/**
 * A TCP proxy in front of a region's internal endpoint that can drop its traffic, as a
 * network partition does: while cut, bytes on open connections go nowhere and new
 * connections are accepted and then hear nothing (a sender waits for its own timeout, as
 * across a real partition). heal() resets what the cut held (their state is gone, as after
 * a partition long enough for the peers to give up) and forwards new connections again.
 */
import net from 'node:net';

export interface CutProxy {
  url: string;
  cut(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startCutProxy(target: { host: string; port: number }): Promise<CutProxy> {
  const pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>();
  let cut = false;
  const server = net.createServer((client) => {
    const pair: { client: net.Socket; upstream?: net.Socket } = { client };
    pairs.add(pair);
    client.once('close', () => pairs.delete(pair));
    client.on('error', () => pair.upstream?.destroy());
    if (cut) return void client.on('data', () => undefined); // accepted, and silence
    const upstream = net.connect(target);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    client.on('data', (d: Buffer) => void (cut || upstream.write(d)));
    upstream.on('data', (d: Buffer) => void (cut || client.write(d)));
    client.once('end', () => cut || upstream.end());
    upstream.once('end', () => cut || client.end());
    upstream.once('close', () => cut || client.destroy());
    client.once('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      cut = true;
    },
    heal() {
      if (!cut) return;
      cut = false;
      for (const p of [...pairs]) {
        p.client.resetAndDestroy();
        p.upstream?.destroy();
      }
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
