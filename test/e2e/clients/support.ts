/**
 * Shared plumbing for the client suites: run a client binary with a clean environment, make
 * files and directory trees of random bytes, hash files and trees (streamed), and an optional
 * tracing proxy (ERNE_CLIENTS_TRACE=1) that records every request/response pair a client
 * sends, so a failing step can be reported with the exact exchange.
 * ERNE_CLIENTS_DEBUG=1 makes the CLI suites pass their clients' own debug flags
 * (aws --debug, s3cmd -d, rclone -vv --dump headers); the output shows in failure messages.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment a client gets: ours minus anything AWS-ish that could redirect it
 * (profiles, CA bundle — AWS_CA_BUNDLE breaks rclone over plain HTTP), plus `extra`.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|RCLONE_|S3CMD|BOTO)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function run(bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: opts.env ?? cleanEnv(), cwd: opts.cwd, maxBuffer: 256 << 20, timeout: opts.timeout ?? 120_000 }, (err, stdout, stderr) => {
      const c = (err as { code?: unknown } | null)?.code;
      resolve({ code: err ? (typeof c === 'number' ? c : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Runs and throws (with the command and the tail of its output) unless it exits 0. */
export async function mustRun(bin: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): Promise<string> {
  const r = await run(bin, args, opts);
  if (r.code !== 0) {
    const tail = (s: string) => (s.length > 4000 ? '…' + s.slice(-4000) : s);
    throw new Error(`${bin} ${args.join(' ')} exited ${r.code}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
  }
  return r.stdout;
}

/** Writes `size` random bytes to `path` in 1 MiB pieces (never the whole file in memory). */
export async function randomFile(path: string, size: number): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  const hash = createHash('md5');
  const out = createWriteStream(path);
  for (let left = size; left > 0; ) {
    const piece = randomBytes(Math.min(left, 1 << 20));
    hash.update(piece);
    left -= piece.length;
    if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return hash.digest('hex');
}

export function smallFile(path: string, data: Buffer | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

export function fileMd5(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** Every regular file under `root` as relative path ('/'-separated) → md5. */
export async function treeMd5(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.set(relative(root, p).split('\\').join('/'), await fileMd5(p));
    }
  };
  if (existsSync(root) && statSync(root).isDirectory()) await walk(root);
  return out;
}

/**
 * A tree of `count` small files spread over nested directories (names with spaces, quotes,
 * '&', '<' and non-ASCII included, since sync tools must round-trip them). Returns relative path → md5.
 */
export function makeTree(root: string, count: number, opts: { maxSize?: number } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const dirs = ['', 'a', 'a/b', 'a/b/c', 'docs', 'docs/sub dir', 'ünï', 'x/y/z/deep'];
  for (let i = 0; i < count; i++) {
    const d = dirs[i % dirs.length];
    // every 13th name has characters that must be escaped in XML and encoded in URLs
    const rel = (d ? d + '/' : '') + (i % 13 === 0 ? `it's "file" ${i} & <more>.txt` : `f${i}.bin`);
    const data = randomBytes(1 + ((i * 7919) % (opts.maxSize ?? 4096)));
    smallFile(join(root, rel), data);
    out.set(rel, createHash('md5').update(data).digest('hex'));
  }
  return out;
}

export function sortedEntries(m: Map<string, string>): [string, string][] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface TraceEntry {
  method: string;
  url: string;
  reqHeaders: Record<string, string>;
  status: number;
  resHeaders: Record<string, string>;
  /** the response body when it is an error or small XML (first 2 kB) */
  resBody: string;
}

export interface Tracer {
  /** the URL clients should use (the proxy's, or the gateway's when tracing is off) */
  url: string;
  port: number;
  entries: TraceEntry[];
  /** the non-2xx exchanges, formatted for a failure message or report */
  failures(): string;
  close(): Promise<void>;
}

const TRACE = process.env.ERNE_CLIENTS_TRACE === '1';

/**
 * With ERNE_CLIENTS_TRACE=1: an HTTP proxy in front of the gateway that forwards each request
 * unchanged (raw header names and values, so signatures still verify) and keeps a record.
 * Without it, clients talk to the gateway directly and `entries` stays empty.
 */
export async function tracer(gw: { url: string; port: number }, name: string): Promise<Tracer> {
  const entries: TraceEntry[] = [];
  const failures = () =>
    entries
      .filter((e) => e.status >= 300 && !(e.method === 'HEAD' && e.status === 404))
      .map((e) => `${e.method} ${e.url} -> ${e.status}\n  req: ${JSON.stringify(e.reqHeaders)}\n  res: ${JSON.stringify(e.resHeaders)}\n  ${e.resBody}`)
      .join('\n');
  if (!TRACE) return { url: gw.url, port: gw.port, entries, failures, close: async () => undefined };
  const target = new URL(gw.url);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const reqHeaders: Record<string, string> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) reqHeaders[req.rawHeaders[i]] = req.rawHeaders[i + 1];
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: reqHeaders, agent, setHost: false }, (ur) => {
      const resHeaders: Record<string, string> = {};
      for (let i = 0; i < ur.rawHeaders.length; i += 2) resHeaders[ur.rawHeaders[i]] = ur.rawHeaders[i + 1];
      const entry: TraceEntry = { method: req.method ?? '', url: req.url ?? '', reqHeaders, status: ur.statusCode ?? 0, resHeaders, resBody: '' };
      entries.push(entry);
      const keep = (ur.statusCode ?? 0) >= 300 || /xml/.test(String(ur.headers['content-type'] ?? ''));
      res.writeHead(ur.statusCode ?? 502, ur.rawHeaders);
      ur.on('data', (c: Buffer) => {
        if (keep && entry.resBody.length < 2048) entry.resBody += c.toString('utf8').slice(0, 2048 - entry.resBody.length);
        res.write(c);
      });
      ur.on('end', () => res.end());
    });
    up.on('error', (e) => {
      entries.push({ method: req.method ?? '', url: req.url ?? '', reqHeaders, status: 502, resHeaders: {}, resBody: `proxy: ${e.message}` });
      res.destroy();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    entries,
    failures,
    close: async () => {
      if (entries.length) {
        const f = failures();
        console.log(`[trace ${name}] ${entries.length} requests; non-2xx:\n${f || '(none)'}`);
      }
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
