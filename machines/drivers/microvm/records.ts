/**
 * What the driver remembers per machine, one JSON file each under its state directory, so
 * that a new driver (after a scheduler restart) finds the qemus that still run: the pid, and
 * the work directory whose path is on that qemu's command line (a reused pid is not ours).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Accel } from './qemu-args.js';

export interface VmRecord {
  machineId: string;
  instanceId: string;
  workDir: string;
  volumeDir: string;
  pid?: number;
  accel: Accel;
  accelReason: string;
  /** how the running qemu came up */
  boot: 'cold' | 'resumed';
  /** booted from the image's startup snapshot (snapshot.ts) */
  snapshot?: boolean;
  consoleSocket: string;
  qmpSocket: string;
}

export class Records {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(machineId: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(machineId)) throw new Error(`bad machine id: ${machineId}`);
    return join(this.dir, `${machineId}.json`);
  }

  get(machineId: string): VmRecord | undefined {
    const f = this.file(machineId);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as VmRecord) : undefined;
  }

  put(rec: VmRecord): void {
    const f = this.file(rec.machineId);
    writeFileSync(`${f}.tmp`, JSON.stringify(rec, null, 2));
    renameSync(`${f}.tmp`, f);
  }

  remove(machineId: string): void {
    rmSync(this.file(machineId), { force: true });
  }

  all(): VmRecord[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as VmRecord);
  }
}

/** The qemu of this record is alive: the pid exists and its command line names the work dir. */
export function qemuAlive(rec: VmRecord): boolean {
  if (!rec.pid) return false;
  try {
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8');
    return cmdline.includes(rec.workDir);
  } catch {
    return false;
  }
}
