/**
 * Figures for the microvm driver, measured on this machine: cold boot to the first S3 answer,
 * suspend and resume times, qemu's RSS, and the request rate of the same gateway inside the VM
 * and on the host (keep-alive GETs answered with S3 error XML: the gateway's HTTP path, no disk).
 * qemu's CPU seconds up to the first answer are printed too: on a shared, loaded host they
 * say what a boot costs when wall-clock times mostly say how busy the host was.
 *   npm run build && node dist/bench/microvm.js [--seconds 5] [--concurrency 8]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroVmDriver } from '../machines/drivers/microvm/driver.js';
import { PROJECT_ROOT } from '../machines/drivers/microvm/image.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg('seconds', 5);
const CONCURRENCY = arg('concurrency', 8);
const ERNE_JS = join(PROJECT_ROOT, 'dist', 'cli', 'erne.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function get(url: string, agent: http.Agent | false, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const r = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    r.on('error', () => resolve(false));
    r.setTimeout(timeoutMs, () => (r.destroy(), resolve(false)));
  });
}

async function firstAnswer(url: string): Promise<void> {
  while (!(await get(url, false, 1000))) await new Promise((r) => setTimeout(r, 50));
}

async function rate(url: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const loop = async (until: number) => {
    let n = 0;
    while (Date.now() < until) if (await get(url, agent, 10_000)) n++;
    return n;
  };
  // warm up first: the first couple of thousand requests run through the JIT (much slower under TCG)
  await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(Date.now() + 3000)));
  const t0 = Date.now();
  const counts = await Promise.all(Array.from({ length: CONCURRENCY }, () => loop(t0 + SECONDS * 1000)));
  agent.destroy();
  return Math.round(counts.reduce((a, b) => a + b, 0) / ((Date.now() - t0) / 1000));
}

/** CPU seconds a process has used (user + system): boot cost that does not depend on the host's load */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s on Linux)
};
const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'erne-microvm-bench-'));
  const driver = new MicroVmDriver({ stateDir: join(dir, 'state'), log: (l) => console.error(l) });
  try {
    await driver.prepare(); // image building is not boot time
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const volumeDir = join(dir, 'volume');
    const spec = {
      machineId: 'bench', instanceId: 'v1', app: 'erne', region: 'local',
      argv: [process.execPath, ERNE_JS, 'serve', '--host', '0.0.0.0', '--port', '9000', '--data-dir', volumeDir],
      env: {}, volumeDir, workDir: join(dir, 'work'),
      ports: [{ internal: 9000, host: port, protocol: 'tcp' as const }],
      guest: { cpus: 1, memoryMb: 512 },
    };
    let t0 = Date.now();
    await driver.start(spec);
    await firstAnswer(url);
    const coldMs = Date.now() - t0;
    const status = await driver.status('bench');
    const coldCpuS = cpuSeconds(status.pid!);
    const rssBoot = rssMb(status.pid!);
    const vmRate = await rate(url);
    const rssWarm = rssMb((await driver.status('bench')).pid!);
    t0 = Date.now();
    await driver.suspend('bench');
    const suspendMs = Date.now() - t0;
    t0 = Date.now();
    await driver.start(spec);
    await firstAnswer(url);
    const resumeMs = Date.now() - t0;
    const resumedPid = (await driver.status('bench')).pid!;
    const resumeCpuS = cpuSeconds(resumedPid);
    const rssResumed = rssMb(resumedPid);
    await driver.destroy('bench');

    const hostPort = await freePort();
    const hostData = join(dir, 'host-data');
    const host = spawn(process.execPath, [ERNE_JS, 'serve', '--port', String(hostPort), '--data-dir', hostData], { stdio: 'ignore' });
    await firstAnswer(`http://127.0.0.1:${hostPort}/`);
    const hostRate = await rate(`http://127.0.0.1:${hostPort}/`);
    host.kill('SIGTERM');
    await once(host, 'exit');

    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(JSON.stringify({ accel: status.detail?.accel, coldMs, coldCpuS, suspendMs, resumeMs, resumeCpuS, rssBootMb: rssBoot, rssWarmMb: rssWarm, rssResumedMb: rssResumed, vmRate, hostRate, concurrency: CONCURRENCY, loadavg: load }));
  } finally {
    for (const m of await driver.list()) await driver.destroy(m.machineId);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
