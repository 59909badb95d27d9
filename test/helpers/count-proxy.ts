/**
 * A plain HTTP proxy in front of a server that records every request it forwards (method and
 * path with query), and can hold requests back: what arrives while held waits, unanswered,
 * until released (or until its client goes away). Tests count what reached a server through it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountProxy {
  url: string;
  /** "METHOD /path?query" of each request forwarded, in order */
  seen: string[];
  /** requests of `method` to exactly this path (the query left out) */
  count(method: string, path: string): number;
  /** from now on, requests wait; `after`: only once this many more have been forwarded */
  hold(after?: number): void;
  release(): void;
  /** requests held now (a request whose client went away is dropped) */
  held(): number;
  close(): Promise<void>;
}

export async function startCountProxy(target: string): Promise<CountProxy> {
  const to = new URL(target);
  const seen: string[] = [];
  let holdAfter: number | undefined;
  let waiting: (() => void)[] = [];
  const held = () => holdAfter !== undefined && seen.length >= holdAfter;
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const out = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  };
  const server = http.createServer((req, res) => {
    if (!held()) return forward(req, res);
    const go = () => forward(req, res);
    waiting.push(go);
    res.on('close', () => (waiting = waiting.filter((w) => w !== go)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    count: (method, path) => seen.filter((s) => s.split('?')[0] === `${method} ${path}`).length,
    hold(after = 0) {
      holdAfter = seen.length + after;
    },
    held: () => waiting.length,
    release() {
      holdAfter = undefined;
      const go = waiting;
      waiting = [];
      for (const g of go) g();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
