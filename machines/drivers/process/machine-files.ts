/**
 * The files the process driver keeps for a machine, in the machine's workDir, and the index
 * under the driver's root that lets a new driver instance find every workDir again:
 *
 *   <root>/index/<machineId>.json   { workDir }
 *   <workDir>/launch.json           what to run (the LaunchSpec, resolved): written by the driver
 *   <workDir>/state.json            who runs it (supervisor and program pid + start time)
 *   <workDir>/exit.json             how the run ended: written by the supervisor
 *   <workDir>/machine.log           the program's output, stamped (log-file.ts)
 *
 * Each JSON file is written whole (temporary file, then rename), so a reader never sees half.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchSpec } from '../types.js';
import type { ProcIdentity } from './proc-identity.js';

/** a port the supervisor listens on (host side) and forwards to the machine */
export interface Forward {
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

export interface LaunchRecord {
  spec: LaunchSpec;
  /** a new one per start: state.json and exit.json name the run they belong to */
  runId: string;
  /** the argv actually spawned (with `ip netns exec …` in front in netns mode) */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  forwards: Forward[];
  /** facts for status().detail (network mode, address …) */
  detail: Record<string, string>;
}

export interface StateRecord {
  runId: string;
  instanceId: string;
  supervisor: ProcIdentity;
  program: ProcIdentity;
  startedAt: string;
}

export interface ExitRecord {
  runId: string;
  exitCode: number | null;
  signal: string | null;
  exitedAt: string;
  /** the program could not be started at all (e.g. ENOENT) */
  error?: string;
}

export const files = (workDir: string) => ({
  launch: join(workDir, 'launch.json'),
  state: join(workDir, 'state.json'),
  exit: join(workDir, 'exit.json'),
  log: join(workDir, 'machine.log'),
});

export function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** the index of machines under a driver root */
export class MachineIndex {
  private readonly dir: string;
  constructor(root: string) {
    this.dir = join(root, 'index');
    mkdirSync(this.dir, { recursive: true });
  }

  add(machineId: string, workDir: string): void {
    writeJson(this.entry(machineId), { workDir });
  }

  workDir(machineId: string): string | undefined {
    return readJson<{ workDir: string }>(this.entry(machineId))?.workDir;
  }

  remove(machineId: string): void {
    rmSync(this.entry(machineId), { force: true });
  }

  ids(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => decodeURIComponent(f.slice(0, -'.json'.length)));
  }

  private entry(machineId: string): string {
    // a machine id is the scheduler's; encoding keeps any of its characters out of the path
    return join(this.dir, `${encodeURIComponent(machineId)}.json`);
  }
}
