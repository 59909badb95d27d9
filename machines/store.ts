/**
 * The Machines API's durable state: apps and machines as one JSON document under the data
 * directory, rewritten whole on every change (write to a temporary file, fsync, rename, fsync
 * the directory), so a crash leaves the old document or the new one, never half of either.
 * The document is small (a machine is a few kB; events are capped), and changes are rare next
 * to the reconcile loop's reads, which are served from memory.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { App, LeaseData, Machine } from './api/types.js';

/** what the scheduler should make true; the API sets it, the reconcile loop acts on it */
export type Desired = 'started' | 'stopped' | 'suspended' | 'destroyed';

export interface MachineRecord extends Machine {
  app: string;
  desired: Desired;
  lease?: LeaseData;
  /** how the next stop is done (from POST /stop or /restart) */
  stop?: { signal?: NodeJS.Signals; timeout_ms?: number };
  /** a restart was asked for: stop, then start again */
  restart_requested?: boolean;
  /** starts after a failure since the machine last ran healthy (for the back-off and max_retries) */
  failures: number;
  /** unix ms before which the scheduler does not start it again (back-off) */
  next_start_at?: number;
  /** unix ms the current instance was started (health grace period counts from here) */
  started_at?: number;
}

export interface StoreDoc {
  version: 1;
  apps: Record<string, App>;
  machines: Record<string, MachineRecord>;
}

export const STORE_FILE = 'machines.json';
const MAX_EVENTS = 50;

export class MachineStore {
  private doc: StoreDoc;
  private readonly file: string;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, STORE_FILE);
    this.doc = load(this.file);
  }

  apps(): App[] {
    return Object.values(this.doc.apps);
  }

  app(name: string): App | undefined {
    return this.doc.apps[name];
  }

  machines(app?: string): MachineRecord[] {
    const all = Object.values(this.doc.machines);
    return app === undefined ? all : all.filter((m) => m.app === app);
  }

  machine(id: string): MachineRecord | undefined {
    return this.doc.machines[id];
  }

  /** changes are made on the records in place, then saved together */
  update(fn: (doc: StoreDoc) => void): void {
    fn(this.doc);
    for (const m of Object.values(this.doc.machines)) if (m.events.length > MAX_EVENTS) m.events = m.events.slice(0, MAX_EVENTS);
    this.save();
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.doc));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

function load(file: string): StoreDoc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, apps: {}, machines: {} };
    throw err;
  }
  const doc = JSON.parse(text) as StoreDoc;
  if (doc.version !== 1 || typeof doc.apps !== 'object' || typeof doc.machines !== 'object') throw new Error(`${file}: not a machines store`);
  return doc;
}
