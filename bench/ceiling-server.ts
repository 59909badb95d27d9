/**
 * The ceiling: the least an HTTP object server in Node.js can do here. PUT streams the body
 * into a file, GET streams it back, HEAD stats, DELETE unlinks; PUT of a bare bucket makes
 * its directory. No auth, no XML, no metadata, no fsync. What Erne reaches relative to this
 * is what its S3 work costs; the rest is Node and the machine.
 *
 *   node dist/bench/ceiling-server.js --port 0 --dir /tmp/ceiling   (prints "listening <port>")
 */
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, stat, unlink } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

function reply(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-length': 0, ...headers }).end();
}

export function ceilingServer(dir: string): http.Server {
  mkdirSync(dir, { recursive: true });
  return http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const [bucket, ...rest] = (q < 0 ? url : url.slice(0, q)).slice(1).split('/');
    // a key becomes one file name: '/' and '%' escaped, so no sub-directories
    const key = rest.length ? encodeURIComponent(decodeURIComponent(rest.join('/'))) : '';
    const file = join(dir, bucket ?? '', key);
    try {
      if (!bucket) return reply(res, 400);
      if (!key) {
        if (req.method !== 'PUT') return reply(res, 501);
        await mkdir(join(dir, bucket), { recursive: true });
        req.resume();
        return reply(res, 200);
      }
      switch (req.method) {
        case 'PUT':
          await pipeline(req, createWriteStream(file));
          return reply(res, 200);
        case 'GET': {
          const st = await stat(file);
          res.writeHead(200, { 'content-length': st.size });
          if (st.size === 0) return void res.end();
          // reading exactly `size` bytes spares a last read just to see end-of-file
          await pipeline(createReadStream(file, { start: 0, end: st.size - 1, highWaterMark: Math.min(st.size, 1 << 20) }), res);
          return;
        }
        case 'HEAD': {
          const st = await stat(file);
          res.writeHead(200, { 'content-length': st.size }).end();
          return;
        }
        case 'DELETE':
          await unlink(file).catch(() => undefined);
          return reply(res, 204);
        default:
          return reply(res, 405);
      }
    } catch (err) {
      if (res.headersSent) res.destroy();
      else reply(res, (err as { code?: string }).code === 'ENOENT' ? 404 : 500);
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, dir: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });
  if (!values.dir) {
    process.stderr.write('usage: ceiling-server --dir DIR [--port N] [--host ADDR]\n');
    process.exit(2);
  }
  const server = ceilingServer(values.dir);
  server.keepAliveTimeout = 65_000;
  server.listen(Number(values.port), values.host, () => {
    process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
