/**
 * Runs a started machine's checks on their intervals and says when it must be replaced: a
 * check that fails `FAILS_TO_REPLACE` times in a row once the grace period (counted from the
 * instance's start) is over. Probes run beside the reconcile loop, never blocking it; a
 * check's status (passing / critical, with its output) is what the machine's `checks` show.
 */
import type { CheckStatus, MachineCheck } from '../api/types.js';
import { parseDuration } from '../duration.js';
import type { MachineRecord } from '../store.js';

export type Probe = (check: MachineCheck, target: { host: string; port: number }, timeoutMs: number) => Promise<{ ok: boolean; output: string }>;

export const FAILS_TO_REPLACE = 2;
const DEFAULTS = { interval: 15_000, timeout: 2_000, grace: 10_000 };

interface CheckRun {
  nextAt: number;
  inFlight: boolean;
  failsInRow: number;
  status?: CheckStatus;
}

interface Tracked {
  instanceId: string;
  runs: Map<string, CheckRun>;
}

export interface HealthVerdict {
  /** a check failed past its grace period: replace the machine (its name) */
  replace?: string;
  /** the statuses changed since the last verdict: store them */
  statuses?: CheckStatus[];
}

export class HealthTracker {
  private readonly machines = new Map<string, Tracked>();
  private readonly changed = new Set<string>();

  constructor(
    private readonly probe: Probe,
    private readonly onProbeDone: (machineId: string) => void,
  ) {}

  forget(machineId: string): void {
    this.machines.delete(machineId);
  }

  /** called on every reconcile of a started machine; starts due probes and judges the last results */
  tick(m: MachineRecord, host: string, now = Date.now()): HealthVerdict {
    const checks = Object.entries(m.config.checks ?? {});
    if (checks.length === 0) return {};
    let t = this.machines.get(m.id);
    if (!t || t.instanceId !== m.instance_id) {
      t = { instanceId: m.instance_id, runs: new Map() };
      this.machines.set(m.id, t);
    }
    const startedAt = m.started_at ?? now;
    const verdict: HealthVerdict = {};
    for (const [name, check] of checks) {
      let run = t.runs.get(name);
      if (!run) t.runs.set(name, (run = { nextAt: now, inFlight: false, failsInRow: 0 }));
      const grace = parseDuration(check.grace_period, DEFAULTS.grace);
      if (run.failsInRow >= FAILS_TO_REPLACE && now >= startedAt + grace) verdict.replace ??= name;
      if (!run.inFlight && now >= run.nextAt) this.start(m, name, check, run, t, host);
    }
    if (this.changed.delete(m.id)) verdict.statuses = [...t.runs.values()].flatMap((r) => (r.status ? [r.status] : []));
    return verdict;
  }

  private start(m: MachineRecord, name: string, check: MachineCheck, run: CheckRun, t: Tracked, host: string): void {
    const interval = parseDuration(check.interval, DEFAULTS.interval);
    const timeout = parseDuration(check.timeout, DEFAULTS.timeout);
    const port = check.port ?? m.config.services?.[0]?.internal_port;
    if (port === undefined) return;
    run.inFlight = true;
    const id = m.id;
    this.probe(check, { host, port }, timeout)
      .catch((err: unknown) => ({ ok: false, output: (err as Error).message }))
      .then((r) => {
        run.inFlight = false;
        run.nextAt = Date.now() + interval;
        // a result for an instance that has since been replaced says nothing about the new one
        if (this.machines.get(id) !== t) return;
        run.failsInRow = r.ok ? 0 : run.failsInRow + 1;
        const status: CheckStatus['status'] = r.ok ? 'passing' : 'critical';
        if (run.status?.status !== status || run.status.output !== r.output) {
          run.status = { name, status, output: r.output, updated_at: new Date().toISOString() };
          this.changed.add(id);
        }
        this.onProbeDone(id);
      });
  }
}
