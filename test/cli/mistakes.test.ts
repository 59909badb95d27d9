/**
 * The mistakes people make in their first minutes end with one clear line on stderr and a
 * non-zero exit, never a stack trace, and a start that fails leaves no half-made data
 * directory behind. Each case runs the built command as a child process (`npm run build` first).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT } from '../helpers/child.js';
import { runErne, STACK_FRAME, type RunOptions } from '../helpers/erne-run.js';
import { tempDir } from '../helpers/gateway.js';

const COMPARE_JS = join(REPO_ROOT, 'dist', 'bench', 'compare.js');
const NOBODY = 65534;

let root: string;
let busy: net.Server;
let busyPort: number;

/** directories given the search bit for the nobody child, with their modes before */
const restoreModes: [string, number][] = [];

beforeAll(async () => {
  root = tempDir('erne-mistakes-');
  busyPort = await freePort();
  busy = net.createServer();
  await new Promise<void>((resolve, reject) => busy.once('error', reject).listen(busyPort, '127.0.0.1', () => resolve()));
  writeFileSync(join(root, 'a-file'), 'not a directory\n');
  writeFileSync(join(root, 'cluster-bad.json'), '{ "regions": [ { "name": "iad", \n');
  const regions = [
    { name: 'iad', internal: 'http://127.0.0.1:9001' },
    { name: 'fra', internal: 'http://127.0.0.1:9002' },
  ];
  writeFileSync(join(root, 'cluster.json'), JSON.stringify({ secret: 'a-cluster-secret-long-enough', regions }));
  writeFileSync(join(root, 'cluster-no-secret.json'), JSON.stringify({ regions }));
  // as root, permissions do not stop us: the child runs as nobody on a root-owned directory
  mkdirSync(join(root, 'read-only'), { mode: 0o755 });
  if (process.getuid?.() !== 0) chmodSync(join(root, 'read-only'), 0o555);
  chmodSync(root, 0o755);
  // the child running as nobody must reach the built command: a checkout under a private
  // directory (mktemp -d is 0700) gets the search bit, given back afterwards
  if (process.getuid?.() === 0) {
    for (let dir = REPO_ROOT; dir !== dirname(dir); dir = dirname(dir)) {
      const mode = statSync(dir).mode & 0o777;
      if ((mode & 0o001) === 0) {
        chmodSync(dir, mode | 0o001);
        restoreModes.push([dir, mode]);
      }
    }
  }
});

afterAll(async () => {
  for (const [dir, mode] of restoreModes) chmodSync(dir, mode);
  await new Promise((r) => busy?.close(r));
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Mistake {
  name: string;
  args: () => string[];
  message: RegExp;
  /** exit code: 2 for a usage error, 1 for one found while running */
  code: 1 | 2;
  opts?: () => RunOptions;
  /** a data directory this attempt must not leave behind */
  fresh?: () => string;
}

const fresh = (name: string) => () => join(root, name);
const asNobody = (): RunOptions => (process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {});

const mistakes: Mistake[] = [
  {
    name: 'port in use',
    args: () => ['serve', '--port', String(busyPort), '--data-dir', join(root, 'port-in-use')],
    message: /port \d+ on 127\.0\.0\.1 is already in use/,
    code: 1,
    fresh: fresh('port-in-use'),
  },
  {
    name: 'address not available',
    args: () => ['serve', '--port', '0', '--host', '10.255.255.1', '--data-dir', join(root, 'no-address')],
    message: /cannot listen on 10\.255\.255\.1: no network interface of this machine has that address \(--host\)/,
    code: 1,
    fresh: fresh('no-address'),
  },
  {
    name: 'data dir is a file',
    args: () => ['serve', '--port', '0', '--data-dir', join(root, 'a-file')],
    message: /--data-dir .*a-file is a file, not a directory/,
    code: 1,
  },
  {
    name: 'data dir under a file',
    args: () => ['serve', '--port', '0', '--data-dir', join(root, 'a-file', 'sub')],
    message: /cannot create --data-dir .*a-file\/sub: .*a-file is a file/,
    code: 1,
  },
  {
    name: 'data dir not writable',
    args: () => ['serve', '--port', '0', '--data-dir', join(root, 'read-only')],
    message: /--data-dir .*read-only is not writable by this user/,
    code: 1,
    opts: asNobody,
  },
  {
    name: 'data dir cannot be created',
    args: () => ['serve', '--port', '0', '--data-dir', join(root, 'read-only', 'sub')],
    message: /cannot create --data-dir .*read-only\/sub: permission denied/,
    code: 1,
    opts: asNobody,
    fresh: () => join(root, 'read-only', 'sub'),
  },
  {
    name: 'out-of-range --inline-threshold',
    args: () => ['serve', '--port', '0', '--inline-threshold', '100000', '--data-dir', join(root, 'threshold')],
    message: /--inline-threshold: at most 65536, got 100000/,
    code: 2,
    fresh: fresh('threshold'),
  },
  {
    name: 'out-of-range ERNE_INLINE_THRESHOLD',
    args: () => ['serve', '--port', '0', '--data-dir', join(root, 'threshold-env')],
    opts: () => ({ env: { ERNE_INLINE_THRESHOLD: '70000' } }),
    message: /ERNE_INLINE_THRESHOLD: at most 65536, got 70000/,
    code: 2,
    fresh: fresh('threshold-env'),
  },
  {
    name: 'a cluster file that is not JSON',
    args: () => ['serve', '--port', '0', '--region', 'iad', '--cluster', join(root, 'cluster-bad.json'), '--data-dir', join(root, 'cluster-bad')],
    message: /^erne: the cluster file .*cluster-bad\.json is not valid JSON: /,
    code: 1,
    fresh: fresh('cluster-bad'),
  },
  {
    name: 'a cluster file that cannot be read',
    args: () => ['serve', '--port', '0', '--region', 'iad', '--data-dir', join(root, 'cluster-missing')],
    opts: () => ({ env: { ERNE_CLUSTER: join(root, 'no-such-cluster.json') } }),
    message: /^erne: cannot read the cluster file .*no-such-cluster\.json: ENOENT/,
    code: 1,
    fresh: fresh('cluster-missing'),
  },
  {
    name: 'a region the cluster file does not name',
    args: () => ['serve', '--port', '0', '--region', 'sin', '--cluster', join(root, 'cluster.json'), '--data-dir', join(root, 'cluster-sin')],
    message: /cluster\.json: this region \(sin\) is not among its regions \(iad, fra\); start with --region set to one of them/,
    code: 1,
    fresh: fresh('cluster-sin'),
  },
  {
    name: 'a cluster without its secret',
    args: () => ['serve', '--port', '0', '--region', 'iad', '--cluster', join(root, 'cluster-no-secret.json'), '--data-dir', join(root, 'cluster-secret')],
    opts: () => ({ env: { ERNE_CLUSTER_SECRET: '' } }),
    message: /cluster-no-secret\.json: no cluster secret: set ERNE_CLUSTER_SECRET or "secret" in the file/,
    code: 1,
    fresh: fresh('cluster-secret'),
  },
  {
    name: 'a Redis URL that is not one',
    args: () => ['serve', '--port', '0', '--region', 'iad', '--cluster', join(root, 'cluster.json'), '--redis-url', 'http://127.0.0.1:6379', '--data-dir', join(root, 'cluster-redis')],
    message: /^erne: --redis-url: expected redis:\/\/HOST:PORT \(or rediss:\/\/\), got "http:\/\/127\.0\.0\.1:6379"\n$/,
    code: 2,
    fresh: fresh('cluster-redis'),
  },
  {
    name: 'a missing argument names the command once',
    args: () => ['keys', 'delete'],
    message: /^erne: keys delete: missing ACCESS_KEY_ID\n$/,
    code: 2,
  },
  {
    name: 'a group without its subcommand',
    args: () => ['keys'],
    message: /^erne: keys needs a subcommand; try 'erne keys --help'\n$/,
    code: 2,
  },
  {
    name: 'bench:compare with an unknown flag',
    args: () => ['--frobnicate'],
    opts: () => ({ script: COMPARE_JS }),
    message: /^bench:compare: unknown flag '--frobnicate'; try 'npm run bench:compare -- --help'\n$/,
    code: 2,
  },
];

describe('a mistake ends with one clear line', () => {
  it.each(mistakes.map((m) => [m.name, m] as const))('%s', async (_name, m) => {
    const r = await runErne(m.args(), m.opts?.());
    expect(r.code, r.stderr).toBe(m.code);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr.split('\n').filter(Boolean), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(m.message);
    expect(r.stderr).not.toMatch(/erne: erne /);
    if (m.fresh) expect(existsSync(m.fresh()), `${m.fresh()} was left behind`).toBe(false);
  });

  it('a failed start leaves an existing data directory as it was', async () => {
    const dir = join(root, 'existing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    const r = await runErne(['serve', '--port', String(busyPort), '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already in use/);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });
});

describe('npm run bench:compare -- --help', () => {
  it('prints its usage and exits 0', async () => {
    const r = await runErne(['--help'], { script: COMPARE_JS });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run bench:compare/);
    for (const flag of ['--only', '--targets', '--big-list-keys', '--list-keys', '--scale', '--procs', '--out']) expect(r.stdout).toContain(flag);
    expect(r.stderr).toBe('');
  });
});
