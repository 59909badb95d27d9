/**
 * Where a microVM's cold boot goes: boots one VM and stamps every console line with the host's
 * time since `start`, next to the init's own guest-uptime stamps (kernel → init → modules →
 * disks → program), then the first HTTP answer and qemu's CPU seconds. `--command node` runs a
 * bare Node HTTP server instead of the gateway, which separates "VM + Node's start" from the
 * gateway's own start. `--node-flags '…'` are given to the guest's node.
 *   npm run build && node dist/bench/microvm-phases.js [--command gateway|node] [--runs 3] [--cpus 1] [--node-flags '…'] [--profile DIR]
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroVmDriver } from '../machines/drivers/microvm/driver.js';
import { PROJECT_ROOT } from '../machines/drivers/microvm/image.js';
import { run as runTool } from '../machines/drivers/microvm/run.js';
import { VOLUME_FILE } from '../machines/drivers/microvm/volume.js';

const flag = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const COMMAND = flag('command', 'gateway');
const RUNS = Number(flag('runs', '1'));
const CPUS = Number(flag('cpus', '1'));
/** flags for the guest's node (before the script), to try V8 settings under TCG */
const NODE_FLAGS = flag('node-flags', '').split(' ').filter(Boolean);
/** --profile DIR: the guest's node writes a V8 CPU profile of its start, copied out to DIR */
const PROFILE = flag('profile', '');
const ERNE_JS = join(PROJECT_ROOT, 'dist', 'cli', 'erne.js');
const BARE_SERVER = "require('http').createServer((q, s) => s.end('ok')).listen(9000, '0.0.0.0', () => console.log('listening after ' + Math.round(process.uptime() * 1000) + ' ms of node'))";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const r = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    r.on('error', () => resolve(false));
    r.setTimeout(1000, () => (r.destroy(), resolve(false)));
  });
}

const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

async function once(driver: MicroVmDriver, dir: string, run: number): Promise<Record<string, unknown>> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const volumeDir = join(dir, `volume-${run}`);
  const argv = COMMAND === 'node'
    ? [process.execPath, ...NODE_FLAGS, '-e', BARE_SERVER]
    : [process.execPath, ...NODE_FLAGS, ERNE_JS, 'serve', '--host', '0.0.0.0', '--port', '9000', '--data-dir', volumeDir];
  if (PROFILE) argv.splice(1, 0, '--cpu-prof', `--cpu-prof-dir=${volumeDir}/prof`);
  const id = `phases-${run}`;
  const t0 = Date.now();
  await driver.start({
    machineId: id, instanceId: 'v1', app: 'erne', region: 'local', argv, env: {}, volumeDir, workDir: join(dir, `work-${run}`),
    ports: [{ internal: 9000, host: port, protocol: 'tcp' }], guest: { cpus: CPUS, memoryMb: 512 },
  });
  const launchedMs = Date.now() - t0;
  const stop = new AbortController();
  const lines: string[] = [];
  // the console log read every 10 ms (driver.logs polls every 200 ms: too coarse for stamps)
  const follow = (async () => {
    const file = join(dir, `work-${run}`, 'console.log');
    let offset = 0;
    let partial = '';
    while (!stop.signal.aborted) {
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        const fd = openSync(file, 'r');
        readSync(fd, buf, 0, buf.length, offset);
        closeSync(fd);
        offset = size;
        const now = Date.now() - t0;
        const got = (partial + buf.toString('utf8')).split('\n');
        partial = got.pop()!;
        for (const l of got) lines.push(`${String(now).padStart(6)} ms  ${l.replace(/\r$/, '')}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  while (!(await answers(url))) {
    const st = await driver.status(id);
    if (st.state !== 'running') throw new Error(`the machine ended before answering (${st.state}):\n${lines.slice(-5).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const firstAnswerMs = Date.now() - t0;
  const pid = (await driver.status(id)).pid!;
  const cpu = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, 300)); // let the follower read the last lines
  stop.abort();
  await follow;
  if (PROFILE) {
    // the profile is written when node exits; then it is read out of the stopped VM's ext4 volume
    await driver.stop(id, { timeoutMs: 60_000 });
    mkdirSync(PROFILE, { recursive: true });
    await runTool('debugfs', ['-R', `rdump /prof ${PROFILE}`, join(volumeDir, VOLUME_FILE)]);
  }
  await driver.destroy(id);
  console.error(`--- run ${run} (${COMMAND}): qemu launched at ${launchedMs} ms`);
  for (const l of lines) console.error(l);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  return { command: COMMAND, cpus: CPUS, nodeFlags: NODE_FLAGS.join(' '), run, firstAnswerMs, qemuCpuS: cpu, loadavg: load };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'erne-microvm-phases-'));
  const driver = new MicroVmDriver({ stateDir: join(dir, 'state'), log: (l) => console.error(l) });
  try {
    await driver.prepare();
    for (let i = 1; i <= RUNS; i++) console.log(JSON.stringify(await once(driver, dir, i)));
  } finally {
    for (const m of await driver.list()) await driver.destroy(m.machineId);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
