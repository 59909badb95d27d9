/**
 * The mistakes of `erne dev` end with one clear line on stderr and a non-zero exit, before
 * anything is started or created (`npm run build` first).
 */
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/child.js';
import { runErne, STACK_FRAME } from '../../helpers/erne-run.js';
import { tempDir } from '../../helpers/gateway.js';

let root: string;
let noRedisPath: string;
let busy: net.Server;
let busyPort: number;

beforeAll(async () => {
  root = tempDir('erne-dev-mistakes-');
  // a PATH with node but no redis-server
  noRedisPath = join(root, 'bin');
  mkdirSync(noRedisPath);
  symlinkSync(process.execPath, join(noRedisPath, 'node'));
  busyPort = await freePort();
  busy = net.createServer();
  await new Promise<void>((resolve, reject) => busy.once('error', reject).listen(busyPort, '127.0.0.1', () => resolve()));
});

afterAll(async () => {
  await new Promise((r) => busy?.close(r));
  if (root) rmSync(root, { recursive: true, force: true });
});

const cases: { name: string; args: () => string[]; env?: () => Record<string, string>; message: RegExp; code: 1 | 2 }[] = [
  { name: 'a bad --latency', args: () => ['--latency', 'fast'], message: /^erne: --latency: expected a one-way delay like 50ms or 0\.2s, got "fast"$/, code: 2 },
  { name: 'a bad ERNE_DEV_LATENCY', args: () => [], env: () => ({ ERNE_DEV_LATENCY: '5' }), message: /^erne: --latency: expected a one-way delay like 50ms or 0\.2s, got "5"$/, code: 2 },
  { name: 'an empty region list', args: () => ['--regions', ','], message: /^erne: --regions: name at least one region, e.g. --regions iad,fra,sin$/, code: 2 },
  { name: 'no region list at all', args: () => ['--regions', ''], message: /^erne: --regions: expected a value$/, code: 2 },
  { name: 'a region named twice', args: () => ['--regions', 'iad,fra,iad'], message: /^erne: --regions: iad is named twice$/, code: 2 },
  { name: 'a driver that does not exist', args: () => ['--driver', 'docker'], message: /^erne: --driver: no driver "docker"; choose process or microvm$/, code: 2 },
  {
    name: 'a driver whose machines run elsewhere',
    args: () => ['--driver', 'fly'],
    message: /^erne: --driver: the fly driver runs its machines elsewhere, erne dev runs them on this machine; choose process or microvm$/,
    code: 2,
  },
  {
    name: 'redis-server not installed',
    args: () => [],
    env: () => ({ PATH: noRedisPath }),
    message: /^erne: redis-server is not installed \(or not on PATH\); erne dev runs one per region: install Redis \(apt-get install redis-server, brew install redis\)$/,
    code: 1,
  },
  {
    name: 'a region port in use',
    args: () => ['--port', String(busyPort - 1), '--regions', 'a,b'],
    message: /^erne: port \d+ on 127\.0\.0\.1 is already in use \(another server is listening there\); choose another with --port$/,
    code: 1,
  },
  { name: '--machines-port without --driver', args: () => ['--machines-port', '4280'], message: /^erne: --machines-port: only with --driver \(the Machines API serves the gateways when they are machines\)$/, code: 2 },
  { name: '--network without --driver process', args: () => ['--network', 'netns'], message: /^erne: --network: only with --driver process \(it places the process driver’s regions\)$/, code: 2 },
  { name: 'a --network that does not exist', args: () => ['--driver', 'process', '--network', 'vlan'], message: /^erne: --network: loopback, netns or auto, not "vlan"$/, code: 2 },
  {
    name: 'a Machines API port in use',
    args: () => ['--driver', 'process', '--machines-port', String(busyPort)],
    message: /^erne: port \d+ on 127\.0\.0\.1 is already in use \(another server is listening there\); choose another with --machines-port$/,
    code: 1,
  },
];

describe('erne dev mistakes', () => {
  it.each(cases)('$name: one line', async (c) => {
    const dataDir = join(root, c.name.replace(/\W+/g, '-'));
    const run = await runErne(['dev', '--data-dir', dataDir, ...c.args()], { env: c.env?.() });
    expect(run.code, run.stderr).toBe(c.code);
    expect(run.stderr.trimEnd()).toMatch(c.message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(STACK_FRAME);
    expect(run.stdout).toBe('');
    // refused before anything was made
    expect(existsSync(dataDir), dataDir).toBe(false);
  });

  it('--help lists its flags and their ERNE_DEV_ twins', async () => {
    const run = await runErne(['dev', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--regions R,R…', '--latency TIME', '--data-dir DIR', '--port N', '--verbose', '--driver process|microvm', '--machines-port N', '--json']) expect(run.stdout).toContain(flag);
    for (const twin of ['ERNE_DEV_REGIONS', 'ERNE_DEV_LATENCY', 'ERNE_DEV_DATA_DIR', 'ERNE_DEV_PORT', 'ERNE_DEV_DRIVER', 'ERNE_DEV_MACHINES_PORT']) expect(run.stdout).toContain(twin);
  });
});
