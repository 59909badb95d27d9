/**
 * `erne machines list|status|start|stop|restart|destroy|logs`: thin calls of the Machines API
 * client. Lifecycle commands wait for the state they asked for, as flyctl does. A refusal of
 * the API is one line (its `error` text), never a stack.
 */
import type { Machine, MachineState } from '../../machines/api/types.js';
import { MachinesApiError, MachinesClient } from '../../machines/client.js';
import type { FlagValues } from '../args.js';
import { CommandError } from '../keys.js';

export interface Out {
  out: (s: string) => void;
}

export function clientOf(flags: FlagValues): MachinesClient {
  const token = flags['token'];
  if (typeof token !== 'string' || token === '') throw new CommandError('no API token: give --token or set ERNE_MACHINES_TOKEN');
  return new MachinesClient({ endpoint: String(flags['endpoint']), token });
}

/** an API refusal as the one line the operator reads */
export async function oneLine<T>(flags: FlagValues, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof MachinesApiError) {
      if (err.status === 401) throw new CommandError(`the Machines API at ${String(flags['endpoint'])} refused the token (401)`);
      throw new CommandError(err.message);
    }
    throw err;
  }
}

const pad = (s: string, n: number) => s.padEnd(n);

function checksSummary(m: Machine): string {
  if (!m.checks?.length) return '-';
  const passing = m.checks.filter((c) => c.status === 'passing').length;
  return `${passing}/${m.checks.length} passing`;
}

export function machineTable(ms: Machine[]): string {
  const head = `${pad('ID', 16)}${pad('NAME', 20)}${pad('REGION', 8)}${pad('STATE', 11)}${pad('PID', 9)}${pad('RESTARTS', 10)}${pad('CHECKS', 14)}VERSION`;
  const rows = ms.map((m) => `${pad(m.id, 16)}${pad(m.name, 20)}${pad(m.region, 8)}${pad(m.state, 11)}${pad(String(m.erne?.pid ?? '-'), 9)}${pad(String(m.erne?.restarts ?? 0), 10)}${pad(checksSummary(m), 14)}${m.instance_id}`);
  return [head, ...rows].join('\n') + '\n';
}

export async function machinesList(flags: FlagValues, { out }: Out): Promise<void> {
  const c = clientOf(flags);
  const ms = await oneLine(flags, () => c.list(String(flags['app']), flags['region'] as string | undefined));
  out(flags['json'] ? JSON.stringify(ms) + '\n' : ms.length ? machineTable(ms) : `no machines in app ${String(flags['app'])}\n`);
}

export async function machinesStatus(flags: FlagValues, id: string, { out }: Out): Promise<void> {
  const c = clientOf(flags);
  const m = await oneLine(flags, () => c.get(String(flags['app']), id));
  if (flags['json']) return out(JSON.stringify(m) + '\n');
  const argv = m.config.init?.exec ?? [...(m.config.init?.entrypoint ?? []), ...(m.config.init?.cmd ?? [])];
  const lines = [
    `Machine ${m.id} (${m.name}), app ${String(flags['app'])}`,
    `  state:    ${m.state}`,
    `  region:   ${m.region}`,
    `  version:  ${m.instance_id}`,
    `  driver:   ${m.erne?.driver ?? '-'}${m.erne?.pid ? `, pid ${m.erne.pid}` : ''}, ${m.erne?.restarts ?? 0} restarts`,
    ...(m.erne?.detail ? [`  detail:   ${Object.entries(m.erne.detail).map(([k, v]) => `${k}=${v}`).join(' ')}`] : []),
    `  command:  ${argv.length ? argv.join(' ') : (m.config.image ?? '-')}`,
    `  ports:    ${(m.config.services ?? []).map((s) => `${s.internal_port}/${s.protocol ?? 'tcp'}`).join(', ') || '-'}`,
    `  restart:  ${m.config.restart?.policy ?? 'on-failure'}`,
    `  checks:   ${m.checks.length ? m.checks.map((ck) => `${ck.name} ${ck.status} (${ck.output})`).join('; ') : '-'}`,
    '  events (newest first):',
    ...m.events.slice(0, 10).map((e) => `    ${new Date(e.timestamp).toISOString()}  ${pad(e.type, 8)} ${pad(e.status, 10)} ${e.source}${e.request ? ` ${JSON.stringify(e.request)}` : ''}`),
  ];
  out(lines.join('\n') + '\n');
}

async function settle(flags: FlagValues, c: MachinesClient, id: string, state: MachineState, what: string, out: Out['out'], instanceId?: string): Promise<void> {
  const app = String(flags['app']);
  const ok = await oneLine(flags, () => c.wait(app, id, state, { timeoutS: 60, instanceId }));
  if (!ok) throw new CommandError(`machine ${id}: ${what} asked for, but it did not reach ${state} within 60 s (see erne machines status ${id})`);
  if (flags['json']) out(JSON.stringify(await oneLine(flags, () => c.get(app, id))) + '\n');
  else out(`machine ${id} ${state}\n`);
}

export async function machinesStart(flags: FlagValues, id: string, { out }: Out): Promise<void> {
  const c = clientOf(flags);
  await oneLine(flags, () => c.start(String(flags['app']), id));
  await settle(flags, c, id, 'started', 'a start', out);
}

export async function machinesStop(flags: FlagValues, id: string, { out }: Out): Promise<void> {
  const c = clientOf(flags);
  const app = String(flags['app']);
  await oneLine(flags, () => c.stop(app, id, { signal: flags['signal'] as string | undefined, timeout: flags['timeout'] as string | undefined }));
  await settle(flags, c, id, 'stopped', 'a stop', out);
}

export async function machinesRestart(flags: FlagValues, id: string, { out }: Out): Promise<void> {
  const c = clientOf(flags);
  const app = String(flags['app']);
  await oneLine(flags, () => c.restart(app, id, { signal: flags['signal'] as string | undefined }));
  // done once a start after the restart request is recorded (events are newest first)
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = await oneLine(flags, () => c.get(app, id));
    const asked = m.events.find((e) => e.type === 'restart')?.timestamp ?? 0;
    if (m.state === 'started' && m.events.some((e) => e.type === 'start' && e.status === 'started' && e.timestamp >= asked)) break;
    if (Date.now() > deadline) throw new CommandError(`machine ${id}: a restart asked for, but it was not started again within 60 s (see erne machines status ${id})`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await settle(flags, c, id, 'started', 'a restart', out);
}

export async function machinesDestroy(flags: FlagValues, id: string, { out }: Out): Promise<void> {
  const c = clientOf(flags);
  await oneLine(flags, () => c.destroy(String(flags['app']), id, flags['force'] === true));
  await settle(flags, c, id, 'destroyed', 'a destroy', out);
}

export async function machinesLogs(flags: FlagValues, id: string, { out }: Out): Promise<void> {
  const c = clientOf(flags);
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  try {
    await oneLine(flags, async () => {
      for await (const line of c.logs(String(flags['app']), id, { follow: flags['follow'] === true, signal: ac.signal })) out(flags['json'] ? JSON.stringify({ machine: id, line }) + '\n' : line + '\n');
    });
  } finally {
    process.off('SIGINT', stop);
  }
}
