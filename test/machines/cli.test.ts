/**
 * `erne machines …` as an operator runs it: `machines serve` as its own process, the client
 * commands against it (list, status, stop, start, restart, destroy, logs -f, each with --json
 * where it prints data), and operator mistakes answered with one line and no stack trace.
 * Needs `npm run build`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../machines/api/types.js';
import { ERNE_JS, freePort } from '../helpers/child.js';
import { tempDir } from '../helpers/gateway.js';
import { httpServer } from '../helpers/machines.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'cli-test-token-123';
let dataDir: string;
let serve: ChildProcess;
let serveOut = '';
let endpoint: string;

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ERNE_JS, ...args], { env: { ...process.env, ERNE_MACHINES_TOKEN: TOKEN, ERNE_MACHINES_ENDPOINT: endpoint, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await run(args);
  if (r.code !== 0) throw new Error(`erne ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function startServe(port: number): void {
  serve = spawn(process.execPath, [ERNE_JS, 'machines', 'serve', '--data-dir', dataDir, '--port', String(port), '--token', TOKEN], { stdio: ['ignore', 'pipe', 'pipe'] });
  serve.stdout!.on('data', (d: Buffer) => (serveOut += d.toString()));
  serve.stderr!.on('data', (d: Buffer) => (serveOut += d.toString()));
}

beforeAll(async () => {
  dataDir = tempDir('erne-machines-cli-');
  startServe(0);
  const m = await waitFor('machines serve to print its address', () => /Machines API at (http:\/\/[^/\s]+)\/v1/.exec(serveOut));
  endpoint = m![1]!;
});

afterAll(async () => {
  // what the tests left is destroyed through the API, then the server stops
  if (endpoint) {
    const left = JSON.parse((await run(['machines', 'list', '--app', 'demo', '--json'])).stdout || '[]') as Machine[];
    for (const m of left) await run(['machines', 'destroy', m.id, '--app', 'demo', '--force']);
  }
  if (serve && serve.exitCode === null) {
    const exited = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('erne machines against erne machines serve', () => {
  let id: string;
  let port: number;

  it('status, stop, start, restart and destroy a machine, with --json', async () => {
    port = await freePort();
    const res = await fetch(`${endpoint}/v1/apps`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ app_name: 'demo' }) });
    expect(res.status).toBe(201);
    const made = await fetch(`${endpoint}/v1/apps/demo/machines`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ region: 'iad', config: { init: { exec: httpServer(port) }, services: [{ internal_port: port }] } }),
    });
    id = ((await made.json()) as Machine).id;
    await waitFor('it to start', async () => (JSON.parse(await ok(['machines', 'status', id, '--app', 'demo', '--json'])) as Machine).state === 'started');

    const list = JSON.parse(await ok(['machines', 'list', '--app', 'demo', '--json'])) as Machine[];
    expect(list.map((m) => [m.id, m.region, m.state])).toEqual([[id, 'iad', 'started']]);

    const stopped = JSON.parse(await ok(['machines', 'stop', id, '--app', 'demo', '--timeout', '5s', '--json'])) as Machine;
    expect(stopped.state).toBe('stopped');
    expect(await ok(['machines', 'start', id, '--app', 'demo'])).toBe(`machine ${id} started\n`);
    const pid = (JSON.parse(await ok(['machines', 'status', id, '--app', 'demo', '--json'])) as Machine).erne!.pid;
    const restarted = JSON.parse(await ok(['machines', 'restart', id, '--app', 'demo', '--json'])) as Machine;
    expect(restarted.state).toBe('started');
    expect(restarted.erne!.pid).not.toBe(pid);
    const text = await ok(['machines', 'status', id, '--app', 'demo']);
    expect(text).toMatch(/state:\s+started/);
    expect(text).toMatch(/events \(newest first\):\n\s+\S+\s+start\s+started/);
  });

  it('logs -f follows the machine’s log until interrupted', async () => {
    const p = spawn(process.execPath, [ERNE_JS, 'machines', 'logs', id, '--app', 'demo', '-f'], { env: { ...process.env, ERNE_MACHINES_TOKEN: TOKEN, ERNE_MACHINES_ENDPOINT: endpoint }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    await waitFor('the log so far', () => out.includes(`listening on ${port}`));
    const seen = out.split(`listening on ${port}`).length;
    // a restart writes new lines, which the follower prints
    await ok(['machines', 'restart', id, '--app', 'demo']);
    await waitFor('the new lines', () => out.split(`listening on ${port}`).length > seen);
    p.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('stopping machines serve leaves the machine running; the next serve adopts it', async () => {
    const before = JSON.parse(await ok(['machines', 'status', id, '--app', 'demo', '--json'])) as Machine;
    const exited = new Promise<number | null>((r) => serve.once('exit', (code) => r(code)));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(serveOut).toMatch(/SIGTERM: stopping the API; the machines keep running/);
    await waitFor('the machine to answer with no API running', async () => (await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()).catch(() => '')) === 'ok');
    serveOut = '';
    startServe(Number(new URL(endpoint).port));
    await waitFor('machines serve to start again', () => /Machines API at/.test(serveOut));
    const after = JSON.parse(await ok(['machines', 'status', id, '--app', 'demo', '--json'])) as Machine;
    expect(after.state).toBe('started');
    expect(after.erne!.pid).toBe(before.erne!.pid);
    expect(after.events[0]).toMatchObject({ type: 'adopt' });
  });

  it('destroy refuses a running machine without --force, in one line', async () => {
    const r = await run(['machines', 'destroy', id, '--app', 'demo']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^erne: unable to destroy machine \S+: it is started.*\n$/);
    expect(JSON.parse(await ok(['machines', 'destroy', id, '--app', 'demo', '--force', '--json'])).state).toBe('destroyed');
  });
});

describe('operator mistakes: one line, no stack', () => {
  it.each([
    ['no token', ['machines', 'list'], { ERNE_MACHINES_TOKEN: '' }, 1, /^erne: no API token: give --token or set ERNE_MACHINES_TOKEN\n$/],
    ['a wrong token', ['machines', 'list', '--token', 'wrong-token'], {}, 1, /^erne: the Machines API at \S+ refused the token \(401\)\n$/],
    ['nothing at the endpoint', ['machines', 'list', '--endpoint', 'http://127.0.0.1:2'], {}, 1, /^erne: cannot reach the Machines API at http:\/\/127\.0\.0\.1:2 \(ECONNREFUSED\)\n$/],
    ['an unknown machine', ['machines', 'status', '00000000000000', '--app', 'demo'], {}, 1, /^erne: machine 00000000000000 not found\n$/],
    ['an unknown app', ['machines', 'list', '--app', 'nope'], {}, 1, /^erne: app nope not found\n$/],
    ['status without an id', ['machines', 'status'], {}, 2, /^erne: machines status: missing ID\n$/],
    ['scale without --count', ['machines', 'scale', '--region', 'iad'], {}, 2, /^erne: machines scale: --count N is needed\n$/],
    ['scale of gateways without a cluster file', ['machines', 'scale', '--count', '1', '--region', 'iad', '--app', 'erne'], {}, 1, /^erne: machines scale: new gateways need --cluster FILE/],
    ['a bad --redis-url', ['machines', 'scale', '--count', '1', '--region', 'iad', '--redis-url', 'redis://x'], {}, 2, /^erne: --redis-url: expected REGION=VALUE/],
    ['serve without a token', ['machines', 'serve', '--port', '0'], { ERNE_MACHINES_TOKEN: '' }, 1, /^erne: machines serve needs an API token/],
    ['serve with a driver that does not exist', ['machines', 'serve', '--port', '0', '--driver', 'docker'], {}, 1, /^erne: --driver: process, microvm or fly, not "docker"/],
    ['serve with the fly driver but no app', ['machines', 'serve', '--port', '0', '--driver', 'fly', '--fly-token', 'x'], {}, 1, /^erne: the fly driver needs --fly-app/],
  ] as const)('%s', async (_what, args, env, code, line) => {
    const r = await run([...args], env as Record<string, string>);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });
});
