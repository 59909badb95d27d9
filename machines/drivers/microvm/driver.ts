/**
 * The microvm driver: each machine a `qemu-system-x86_64 -M microvm` booting the host's Debian
 * kernel into the machine's argv (see init-script.ts), console kept as the machine's log.
 * start = boot (or resume a suspended VM), stop = the program gets the signal through the
 * console relay and the guest powers off when it exits (qemu killed after the timeout),
 * suspend = QMP stop + migrate to a file + quit, destroy = remove the files.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { DriverStatus, LaunchSpec, MachineDriver, StopOptions } from '../types.js';
import { chooseAccel } from './accel.js';
import { defaultCacheDir, ensureImage, type MicroVmImage } from './image.js';
import { QEMU, tscKhz } from './host.js';
import { machineArchive } from './initramfs.js';
import { shQuote } from './init-script.js';
import { consoleLines, DRIVER_MARK, guestExit } from './console-log.js';
import { qemuArgs } from './qemu-args.js';
import { Qmp } from './qmp.js';
import { qemuAlive, Records, type VmRecord } from './records.js';
import { directIoWorks, ensureVolume } from './volume.js';

export interface MicroVmDriverOptions {
  /** where the driver keeps one record per machine (survives a driver restart) */
  stateDir: string;
  /** the built images (vmlinux, initramfs, squashfs); default ~/.cache/erne/microvm */
  cacheDir?: string;
  /** the host address forwarded ports listen on (default 127.0.0.1) */
  hostAddress?: string;
  /** size of a new volume disk (default 1024 MB, sparse) */
  volumeSizeMb?: number;
  /** the project the image carries (default: the one this code runs from) */
  projectRoot?: string;
  log?: (line: string) => void;
}

const FILES = { log: 'console.log', state: 'vm.state', args: 'qemu-args.json', initrd: 'initrd.cpio', qemuOut: 'qemu.out' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class MicroVmDriver implements MachineDriver {
  readonly name = 'microvm';
  private readonly records: Records;
  private readonly cacheDir: string;
  private image?: Promise<MicroVmImage>;

  constructor(private readonly opts: MicroVmDriverOptions) {
    this.records = new Records(opts.stateDir);
    this.cacheDir = opts.cacheDir ?? defaultCacheDir();
  }

  /** Builds (or finds) the images; start does it too, this lets a caller do it ahead. */
  async prepare(): Promise<MicroVmImage> {
    // another driver may have pruned the image this one built before: build it again then
    const known = await this.image?.catch(() => undefined);
    if (known && ![known.vmlinux, known.initramfs, known.rootfs].every((f) => existsSync(f))) this.image = undefined;
    this.image ??= ensureImage(this.cacheDir, this.opts.projectRoot, (l) => this.opts.log?.(l)).catch((err: unknown) => {
      this.image = undefined;
      throw err;
    });
    return this.image;
  }

  private note(workDir: string, line: string): void {
    this.opts.log?.(line);
    try {
      appendFileSync(join(workDir, FILES.log), `${DRIVER_MARK}${line}\n`);
    } catch {
      // the work dir is gone (destroy): the line went to the driver's log only
    }
  }

  private record(machineId: string): VmRecord {
    const rec = this.records.get(machineId);
    if (!rec) throw new Error(`microvm: no machine ${machineId}`);
    return rec;
  }

  async start(spec: LaunchSpec): Promise<void> {
    const prev = this.records.get(spec.machineId);
    if (prev && qemuAlive(prev)) return;
    mkdirSync(spec.workDir, { recursive: true });
    const state = join(spec.workDir, FILES.state);
    if (prev && existsSync(state)) {
      if (prev.instanceId === spec.instanceId && prev.workDir === spec.workDir) {
        try {
          return await this.resume(prev);
        } catch (err) {
          this.note(spec.workDir, `resume failed (${(err as Error).message}); booting cold`);
        }
      } else this.note(spec.workDir, `saved state belongs to instance ${prev.instanceId}; booting cold`);
      rmSync(state, { force: true });
    }
    await this.coldBoot(spec);
  }

  private async coldBoot(spec: LaunchSpec): Promise<void> {
    const image = await this.prepare();
    const choice = await chooseAccel(this.cacheDir, image.vmlinux, image.initramfs);
    const volume = await ensureVolume(spec.volumeDir, this.opts.volumeSizeMb ?? 1024);
    const initrd = join(spec.workDir, FILES.initrd);
    const settings = { argv: spec.argv, env: spec.env, volumePath: spec.volumeDir, binds: image.binds, cwd: '/', hostname: spec.machineId };
    writeFileSync(initrd, Buffer.concat([readFileSync(image.initramfs), machineArchive(settings)]));
    const sockets = socketNames(spec.workDir);
    const volumeCache = directIoWorks(volume) ? 'none' : 'writethrough';
    const args = qemuArgs({
      accel: choice.accel,
      cpus: spec.guest.cpus,
      memoryMb: spec.guest.memoryMb,
      vmlinux: image.vmlinux,
      initrd,
      rootfs: image.rootfs,
      volume,
      volumeCache,
      consoleLog: join(spec.workDir, FILES.log),
      consoleSocket: sockets.console,
      qmpSocket: sockets.qmp,
      ports: spec.ports,
      hostAddress: this.opts.hostAddress ?? '127.0.0.1',
      tscKhz: tscKhz(),
      tcgCpu: process.env.ERNE_MICROVM_TCG_CPU,
      // more kernel arguments, to try one (loglevel=7 initcall_debug shows the boot in the log)
      append: process.env.ERNE_MICROVM_KERNEL_ARGS?.split(/\s+/).filter(Boolean),
    });
    writeFileSync(join(spec.workDir, FILES.args), JSON.stringify(args));
    this.note(spec.workDir, `cold boot, accel ${choice.accel} (${choice.reason}), volume cache=${volumeCache}`);
    const pid = await this.launch(spec.workDir, args, sockets.qmp);
    this.records.put({
      machineId: spec.machineId,
      instanceId: spec.instanceId,
      workDir: spec.workDir,
      volumeDir: spec.volumeDir,
      pid,
      accel: choice.accel,
      accelReason: choice.reason,
      boot: 'cold',
      consoleSocket: sockets.console,
      qmpSocket: sockets.qmp,
    });
  }

  /** Starts qemu detached (it outlives the driver) and waits until its QMP socket answers. */
  private async launch(workDir: string, args: string[], qmpSocket: string): Promise<number> {
    const outFile = join(workDir, FILES.qemuOut);
    const out = openSync(outFile, 'a');
    const child = spawn(QEMU, args, { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    child.unref();
    let exited = false;
    child.once('exit', () => (exited = true));
    const pid = child.pid;
    if (!pid) throw new Error(`microvm: cannot start ${QEMU}`);
    for (const deadline = Date.now() + 20_000; ; ) {
      if (exited) throw new Error(`microvm: qemu exited at start: ${readFileSync(outFile, 'utf8').trim().split('\n').slice(-3).join(' | ')}`);
      try {
        (await Qmp.connect(qmpSocket, 1000)).close();
        return pid;
      } catch {
        if (Date.now() > deadline) throw new Error('microvm: qemu did not open its QMP socket within 20 s');
        await sleep(50);
      }
    }
  }

  private async resume(rec: VmRecord): Promise<void> {
    const t0 = Date.now();
    const state = join(rec.workDir, FILES.state);
    const args = JSON.parse(readFileSync(join(rec.workDir, FILES.args), 'utf8')) as string[];
    this.note(rec.workDir, `resuming from ${state} (${Math.round(statSync(state).size / 1e6)} MB)`);
    const pid = await this.launch(rec.workDir, [...args, '-incoming', `exec:cat ${shQuote(state)}`], rec.qmpSocket);
    this.records.put({ ...rec, pid, boot: 'resumed' });
    const qmp = await Qmp.connect(rec.qmpSocket);
    try {
      for (const deadline = Date.now() + 60_000; ; await sleep(20)) {
        const { status } = await qmp.execute<{ status: string }>('query-status');
        if (status === 'paused' || status === 'postmigrate') break;
        if (status === 'running') break;
        if (status !== 'inmigrate' && status !== 'prelaunch') throw new Error(`incoming state ended in ${status}`);
        if (Date.now() > deadline) throw new Error('the saved state did not load within 60 s');
      }
      await qmp.execute('cont');
    } catch (err) {
      await this.kill(rec.machineId);
      throw err;
    } finally {
      qmp.close();
    }
    rmSync(state, { force: true }); // the volume moves on from here: the state is stale now
    this.note(rec.workDir, `resumed in ${Date.now() - t0} ms`);
  }

  async suspend(machineId: string): Promise<void> {
    const rec = this.record(machineId);
    if (!qemuAlive(rec)) throw new Error(`microvm: ${machineId} is not running`);
    const t0 = Date.now();
    const state = join(rec.workDir, FILES.state);
    const tmp = `${state}.tmp`;
    const qmp = await Qmp.connect(rec.qmpSocket);
    try {
      await qmp.execute('stop');
      await qmp.execute('migrate', { uri: `exec:cat > ${shQuote(tmp)}` });
      for (;;) {
        const m = await qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
        if (m.status === 'completed') break;
        if (m.status === 'failed' || m.status === 'cancelled') {
          await qmp.execute('cont');
          throw new Error(`microvm: saving ${machineId} failed: ${m['error-desc'] ?? m.status}`);
        }
        await sleep(20);
      }
      renameSync(tmp, state);
      await qmp.execute('quit').catch(() => undefined); // the socket may close before the answer
    } finally {
      qmp.close();
      rmSync(tmp, { force: true });
    }
    await this.waitGone(rec, 10_000);
    this.records.put({ ...rec, pid: undefined });
    this.note(rec.workDir, `suspended in ${Date.now() - t0} ms`);
  }

  /** Sends one line to the init's console relay: `erne-signal TERM`. */
  private sendConsole(rec: VmRecord, line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ path: `\0${rec.consoleSocket}` });
      sock.once('error', reject);
      sock.once('connect', () => sock.end(`${line}\n`, () => resolve()));
      sock.on('data', () => undefined); // console output while connected; the log file has it
    });
  }

  private async waitGone(rec: VmRecord, timeoutMs: number): Promise<boolean> {
    for (const deadline = Date.now() + timeoutMs; qemuAlive(rec); await sleep(50)) if (Date.now() > deadline) return false;
    return true;
  }

  private async kill(machineId: string): Promise<void> {
    const rec = this.records.get(machineId);
    if (!rec || !qemuAlive(rec)) return;
    try {
      process.kill(rec.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await this.waitGone(rec, 10_000);
  }

  async stop(machineId: string, opts: StopOptions = {}): Promise<void> {
    const rec = this.records.get(machineId);
    if (!rec || !qemuAlive(rec)) return;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    await this.signal(machineId, opts.signal ?? 'SIGTERM').catch(() => undefined);
    if (!(await this.waitGone(rec, timeoutMs))) {
      this.note(rec.workDir, `still running ${timeoutMs} ms after ${opts.signal ?? 'SIGTERM'}: killing qemu`);
      await this.kill(machineId);
    }
    this.records.put({ ...rec, pid: undefined });
  }

  async signal(machineId: string, signal: NodeJS.Signals): Promise<void> {
    const rec = this.record(machineId);
    if (!qemuAlive(rec)) throw new Error(`microvm: ${machineId} is not running`);
    await this.sendConsole(rec, `erne-signal ${signal.replace(/^SIG/, '')}`);
  }

  async status(machineId: string): Promise<DriverStatus> {
    const rec = this.records.get(machineId);
    if (!rec) return { state: 'missing' };
    const detail = { accel: rec.accel, boot: rec.boot };
    if (qemuAlive(rec)) return { state: 'running', pid: rec.pid, detail };
    if (existsSync(join(rec.workDir, FILES.state))) return { state: 'suspended', detail };
    return { state: 'exited', ...guestExit(join(rec.workDir, FILES.log)), detail };
  }

  logs(machineId: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<string> {
    return consoleLines(join(this.record(machineId).workDir, FILES.log), opts);
  }

  async destroy(machineId: string): Promise<void> {
    const rec = this.records.get(machineId);
    if (!rec) return;
    await this.stop(machineId, { timeoutMs: 5000 });
    rmSync(rec.workDir, { recursive: true, force: true });
    rmSync(rec.volumeDir, { recursive: true, force: true });
    this.records.remove(machineId);
  }

  async list(): Promise<{ machineId: string; instanceId: string; status: DriverStatus }[]> {
    const out = [];
    for (const rec of this.records.all()) {
      const status = await this.status(rec.machineId);
      if (status.state === 'running' || status.state === 'suspended') out.push({ machineId: rec.machineId, instanceId: rec.instanceId, status });
    }
    return out;
  }
}

/** Abstract socket names from the work dir: the same after a driver restart, no files. */
function socketNames(workDir: string): { console: string; qmp: string } {
  const h = createHash('sha256').update(workDir).digest('hex').slice(0, 16);
  return { console: `erne-microvm-${h}-console`, qmp: `erne-microvm-${h}-qmp` };
}
