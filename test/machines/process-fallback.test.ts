/**
 * The process driver without root: 'auto' falls back to loopback and says why in every
 * machine's status; asking for namespaces outright fails with one clear line. Run as nobody
 * when the tests run as root, so the fallback is seen whatever user runs the suite; the same for
 * `erne machines serve --network netns|auto`.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ERNE_JS, REPO_ROOT } from '../helpers/child.js';
import { waitFor } from '../helpers/wait.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
let root: string;
/** directories given the search bit for the nobody child, with their modes before */
const restoreModes: [string, number][] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'erne-procfb-'));
  chmodSync(root, 0o777);
  // a checkout under a private directory gets the search bit while the nobody child runs
  if (asRoot) {
    for (let dir = REPO_ROOT; dir !== dirname(dir); dir = dirname(dir)) {
      const mode = statSync(dir).mode & 0o777;
      if ((mode & 0o001) === 0) {
        chmodSync(dir, mode | 0o001);
        restoreModes.push([dir, mode]);
      }
    }
  }
});

afterAll(() => {
  for (const [dir, mode] of restoreModes) chmodSync(dir, mode);
  rmSync(root, { recursive: true, force: true });
});

it('without root, auto runs machines on loopback and says why; netns refuses in one line', async () => {
  const script = `
    import { ProcessDriver } from ${JSON.stringify(join(REPO_ROOT, 'dist/machines/drivers/process/index.js'))};
    const root = ${JSON.stringify(root)};
    const d = new ProcessDriver({ root, network: 'auto' });
    const spec = { machineId: 'fb', instanceId: 'i-1', app: 'a', region: 'iad', argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], env: {},
      volumeDir: root + '/volume', workDir: d.workDirFor('fb'), ports: [], guest: { cpus: 1, memoryMb: 128 } };
    await d.start(spec);
    const status = await d.status('fb');
    await d.destroyAll();
    let refused = '';
    try { new ProcessDriver({ root, network: 'netns' }); } catch (e) { refused = e.message; }
    console.log(JSON.stringify({ mode: d.network.mode, status, refused }));`;
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}), cwd: root }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  const r = JSON.parse(out) as { mode: string; status: { state: string; detail: Record<string, string> }; refused: string };
  expect(r.mode).toBe('loopback');
  // off Linux the reason is the platform, not the user
  const reason = process.platform === 'linux' ? 'network namespaces need root' : 'network namespaces need Linux';
  expect(r.status).toMatchObject({ state: 'running', detail: { network: 'loopback', network_reason: reason, address: '127.0.0.1' } });
  expect(r.refused).toBe(`cannot use network namespaces: ${reason}`);
});

it('without root, machines serve --network netns refuses in one line; --network auto says it runs on loopback', async () => {
  const env = { PATH: process.env.PATH ?? '', ERNE_MACHINES_TOKEN: 'fallback-token-1234' };
  const asNobody = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const reason = process.platform === 'linux' ? 'network namespaces need root' : 'network namespaces need Linux';
  const refused = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = execFile(process.execPath, [ERNE_JS, 'machines', 'serve', '--network', 'netns', '--port', '0', '--data-dir', join(root, 'serve-netns')], { ...asNobody, cwd: root, env }, (_err, stdout, stderr) => resolve({ code: c.exitCode, stdout, stderr }));
  });
  expect(refused).toEqual({ code: 1, stdout: '', stderr: `erne: cannot use network namespaces: ${reason}\n` });

  const serve = spawn(process.execPath, [ERNE_JS, 'machines', 'serve', '--network', 'auto', '--port', '0', '--data-dir', join(root, 'serve-auto')], { ...asNobody, cwd: root, env });
  let out = '';
  let err = '';
  serve.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  serve.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const ended = new Promise((r) => serve.once('exit', r));
  try {
    await waitFor('machines serve to start', () => /Machines API at \S+ \(driver process, network loopback,/.test(out));
    expect(err).toBe(`erne machines: --network auto: machines share the host's loopback network (${reason})\n`);
  } finally {
    serve.kill('SIGTERM');
    await ended;
  }
});
