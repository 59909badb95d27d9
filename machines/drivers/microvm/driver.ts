/**
 * The microvm driver: each machine a `qemu-system-x86_64 -M microvm` booting the host's Debian
 * kernel into the machine's argv (see init-script.ts), console kept as the machine's log.
 * start = boot (or resume a suspended VM), stop = the program gets the signal through the
 * console relay and the guest powers off when it exits (qemu killed after the timeout),
 * suspend = QMP stop + migrate to a file + quit, destroy = remove the files.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { DriverStatus, LaunchSpec, MachineDriver, StopOptions } from '../types.js';
import { chooseAccel } from './accel.js';
import { defaultCacheDir, ensureImage, KEEP_IMAGES, pruneImages, type MicroVmImage } from './image.js';
import { appendBlob, buildCommand, failedMarker, markFailed, qemuVersionLine, snapshotImageName, snapshotsWanted, withSnapshot } from './snapshot.js';
import { run } from './run.js';
import { VOLUME_FILE } from './volume.js';
import { cachedFile } from './cache-file.js';
import type { Accel } from './qemu-args.js';
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
  /** boot machines running the CLI from the image's startup snapshot (default: unless ERNE_MICROVM_SNAPSHOT=0) */
  snapshots?: boolean;
  log?: (line: string) => void;
}

const FILES = { log: 'console.log', state: 'vm.state', args: 'qemu-args.json', initrd: 'initrd.cpio', qemuOut: 'qemu.out' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A builder boot under TCG takes ~10 s on an idle host; a busy one may take minutes. */
const SNAPSHOT_BUILD_TIMEOUT_MS = 600_000;

export class MicroVmDriver implements MachineDriver {
  readonly name = 'microvm';
  private readonly records: Records;
  private readonly cacheDir: string;
  private image?: Promise<MicroVmImage>;
  /** startup-snapshot image variants by file name: their path, or undefined where none can be made */
  private snapshots = new Map<string, Promise<string | undefined>>();

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
    const snap = await this.withStartupSnapshot(image, choice.accel, spec.argv);
    const volume = await ensureVolume(spec.volumeDir, this.opts.volumeSizeMb ?? 1024);
    const initrd = join(spec.workDir, FILES.initrd);
    const settings = { argv: snap?.argv ?? spec.argv, env: spec.env, volumePath: spec.volumeDir, binds: image.binds, cwd: '/', hostname: spec.machineId, ...(snap ? { withoutSnapshot: spec.argv } : {}) };
    writeFileSync(initrd, Buffer.concat([readFileSync(image.initramfs), machineArchive(settings)]));
    const sockets = socketNames(spec.workDir);
    const volumeCache = directIoWorks(volume) ? 'none' : 'writethrough';
    const args = qemuArgs({
      accel: choice.accel,
      cpus: spec.guest.cpus,
      memoryMb: spec.guest.memoryMb,
      vmlinux: image.vmlinux,
      initrd,
      rootfs: snap?.rootfs ?? image.rootfs,
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
    this.note(spec.workDir, `cold boot, accel ${choice.accel} (${choice.reason}), volume cache=${volumeCache}${snap ? ', startup snapshot' : ''}`);
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
      snapshot: snap !== undefined,
      consoleSocket: sockets.console,
      qmpSocket: sockets.qmp,
    });
  }

  /** The image variant and argv that start the machine's CLI from a startup snapshot, where it runs the CLI and one can be made. */
  private async withStartupSnapshot(image: MicroVmImage, accel: Accel, argv: string[]): Promise<{ rootfs: string; argv: string[] } | undefined> {
    if (!(this.opts.snapshots ?? snapshotsWanted()) || !image.snapshotEntry) return undefined;
    const snapArgv = withSnapshot(argv, image.node, join(image.projectRoot, 'dist', 'cli', 'erne.js'));
    if (!snapArgv) return undefined;
    const name = snapshotImageName(image.rootfs, accel, process.env.ERNE_MICROVM_TCG_CPU, await qemuVersionLine());
    const known = await this.snapshots.get(name);
    if (known && !existsSync(known)) this.snapshots.delete(name); // pruned by another driver: made again
    if (!this.snapshots.has(name)) this.snapshots.set(name, this.snapshotImage(image, accel, name));
    const rootfs = await this.snapshots.get(name)!;
    return rootfs ? { rootfs, argv: snapArgv } : undefined;
  }

  /**
   * The image with its startup snapshot (snapshot.ts), made at its first use by one boot of a
   * builder VM. A failed build is remembered beside the images and machines boot without.
   */
  private async snapshotImage(image: MicroVmImage, accel: Accel, name: string): Promise<string | undefined> {
    const failed = join(this.cacheDir, failedMarker(name));
    if (existsSync(failed)) {
      this.opts.log?.(`microvm: machines boot without a startup snapshot: its build failed before (${readFileSync(failed, 'utf8').trim()}; delete ${failed} to try again)`);
      return undefined;
    }
    const t0 = Date.now();
    try {
      const out = await cachedFile(this.cacheDir, name, async (tmp) => {
        this.opts.log?.(`microvm: making the image's startup snapshot (one boot under ${accel})`);
        const scratch = mkdtempSync(join(this.cacheDir, 'snapshot-build-'));
        try {
          const blob = await this.buildSnapshotBlob(image, scratch);
          await appendBlob(image.rootfs, blob, tmp, scratch);
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      });
      if (out.built) {
        this.opts.log?.(`microvm: built startup snapshot ${out.path} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        pruneImages(this.cacheDir, KEEP_IMAGES);
      }
      return out.path;
    } catch (err) {
      const reason = (err as Error).message;
      markFailed(this.cacheDir, name, reason);
      this.opts.log?.(`microvm: no startup snapshot for this image, machines boot without it: ${reason}`);
      return undefined;
    }
  }

  /** Boots the image once (a driver of its own, no snapshot) to make the blob; returns its host path. */
  private async buildSnapshotBlob(image: MicroVmImage, scratch: string): Promise<string> {
    const builder = new MicroVmDriver({ ...this.opts, stateDir: join(scratch, 'state'), cacheDir: this.cacheDir, snapshots: false, log: undefined });
    builder.image = Promise.resolve(image);
    const id = 'snapshot-builder';
    const volumeDir = join(scratch, 'volume');
    await builder.start({
      machineId: id,
      instanceId: 'build',
      app: 'erne',
      region: 'local',
      argv: buildCommand(image.node, image.projectRoot, join(volumeDir, 'erne.blob')),
      env: {},
      volumeDir,
      workDir: join(scratch, 'work'),
      ports: [],
      guest: { cpus: 1, memoryMb: 1024 },
    });
    try {
      const deadline = Date.now() + SNAPSHOT_BUILD_TIMEOUT_MS;
      let st = await builder.status(id);
      for (; st.state === 'running'; st = await builder.status(id)) {
        if (Date.now() > deadline) throw new Error(`the builder VM did not finish within ${SNAPSHOT_BUILD_TIMEOUT_MS / 1000} s`);
        await sleep(200);
      }
      if (st.exitCode !== 0) {
        const lines: string[] = [];
        for await (const l of builder.logs(id)) lines.push(l);
        throw new Error(`the builder exited ${st.exitCode ?? '(no exit code)'}: ${lines.slice(-4).join(' | ')}`);
      }
      const blob = join(scratch, 'erne.blob');
      await run('debugfs', ['-R', `dump /erne.blob ${blob}`, join(volumeDir, VOLUME_FILE)]);
      if (!existsSync(blob) || statSync(blob).size === 0) throw new Error('the builder wrote no snapshot');
      return blob;
    } finally {
      await builder.destroy(id);
    }
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
    const detail = { accel: rec.accel, boot: rec.boot, snapshot: rec.snapshot ? 'yes' : 'no' };
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
