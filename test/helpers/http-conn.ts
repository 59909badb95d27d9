/**
 * One raw keep-alive connection to a server, for tests that must control what is sent when
 * (a body sent in parts, a second request on the same connection) and see the answers as
 * they come, and whether the server closed the connection.
 */
import net from 'node:net';
import { waitFor } from './wait.js';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawConnection {
  write(data: string | Buffer): void;
  /** waits for the n-th answer (1-based) on this connection */
  answer(n: number, timeoutMs?: number): Promise<RawAnswer>;
  /** the server ended or closed the connection */
  readonly closed: boolean;
  destroy(): void;
}

/** parses whole answers (Content-Length bodies) off the front of `buf` */
function parseAnswers(buf: Buffer): RawAnswer[] {
  const out: RawAnswer[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const [statusLine = '', ...lines] = buf.subarray(at, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(statusLine.split(' ')[1]);
    // 1xx answers have no body; the others here all carry a Content-Length
    const length = status < 200 ? 0 : Number(headers['content-length'] ?? 0);
    if (buf.length < end + 4 + length) return out;
    out.push({ status, headers, body: buf.subarray(end + 4, end + 4 + length).toString('utf8') });
    at = end + 4 + length;
  }
}

export function rawConnection(url: string): Promise<RawConnection> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let buf = Buffer.alloc(0);
    let closed = false;
    socket.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    socket.on('end', () => (closed = true));
    socket.on('close', () => (closed = true));
    // a reset after the server closed is the same as a close here
    socket.on('error', () => (closed = true));
    socket.once('connect', () =>
      resolve({
        write: (data) => void socket.write(data),
        answer: (n, timeoutMs = 10_000) => waitFor(`answer ${n} on the connection`, () => parseAnswers(buf).filter((a) => a.status >= 200)[n - 1], timeoutMs),
        get closed() {
          return closed;
        },
        destroy: () => socket.destroy(),
      }),
    );
    socket.once('error', reject);
  });
}
