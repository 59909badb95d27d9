/**
 * A load balancer in front of several regions that can move: each new TCP connection goes to
 * the current target, so a client with a fresh connection per request (no keep-alive) follows
 * the move at its next request, as a client behind a geo load balancer does when it roams.
 * The client only ever sees the balancer's address, which is the Host its requests are signed for.
 */
import net from 'node:net';

export interface MovingBalancer {
  url: string;
  /** the port new connections go to */
  target: number;
  /** connections sent to each port so far */
  sent: Map<number, number>;
  close(): Promise<void>;
}

export async function startMovingBalancer(target: number): Promise<MovingBalancer> {
  const open = new Set<net.Socket>();
  const lb: MovingBalancer = { url: '', target, sent: new Map(), close: async () => undefined };
  const server = net.createServer((client) => {
    const port = lb.target;
    lb.sent.set(port, (lb.sent.get(port) ?? 0) + 1);
    const upstream = net.connect({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.once('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  lb.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  lb.close = () =>
    new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    });
  return lb;
}
