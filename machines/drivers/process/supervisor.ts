/**
 * The supervisor of one machine: `node supervisor.js <workDir>`. The driver starts it detached
 * (its own session), so it and the program outlive the scheduler that asked for them; it
 *   - publishes the machine's ports on the host (a plain TCP forward per PortMapping),
 *   - starts the program (in its own process group, so a stop can reach all it spawned),
 *   - stamps every output line into the machine's log,
 *   - records who runs (state.json) and, when the program ends, how (exit.json): a scheduler
 *     that restarted cannot wait() for a process it did not start, so the exit code would be
 *     lost without someone to write it down.
 * It ends when the program ends. Signals sent to it are passed on to the program.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { files, readJson, writeJson, type ExitRecord, type Forward, type LaunchRecord, type StateRecord } from './machine-files.js';
import { LogWriter } from './log-file.js';
import { identify } from './proc-identity.js';

/** after the program exits, how long its output pipes may still deliver (a grandchild may hold them open) */
const DRAIN_MS = 500;

function listen(f: Forward, log: LogWriter): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: f.targetHost, port: f.targetPort });
    client.pipe(upstream);
    upstream.pipe(client);
    // one side failing ends the pair: the client sees a reset, as if it had connected directly
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: f.listenHost, port: f.listenPort }, () => {
      log.line('erne', `forwarding ${f.listenHost}:${f.listenPort} to ${f.targetHost}:${f.targetPort}`);
      resolve(server);
    });
  });
}

async function main(workDir: string): Promise<void> {
  const paths = files(workDir);
  const launch = readJson<LaunchRecord>(paths.launch);
  if (!launch) throw new Error(`no launch record in ${workDir}`);
  const log = new LogWriter(paths.log);
  const finish = (exit: Omit<ExitRecord, 'runId' | 'exitedAt'>) => {
    writeJson(paths.exit, { runId: launch.runId, exitedAt: new Date().toISOString(), ...exit } satisfies ExitRecord);
    log.close();
    process.exit(0);
  };

  const servers: net.Server[] = [];
  for (const f of launch.forwards) {
    try {
      servers.push(await listen(f, log));
    } catch (err) {
      const error = `cannot publish port ${f.listenHost}:${f.listenPort}: ${(err as Error).message}`;
      log.line('erne', error);
      return finish({ exitCode: null, signal: null, error });
    }
  }

  log.line('erne', `starting instance ${launch.spec.instanceId}: ${launch.argv.join(' ')}`);
  const child = spawn(launch.argv[0]!, launch.argv.slice(1), {
    cwd: launch.cwd,
    env: launch.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => log.write('out', d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => log.write('err', d));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  child.once('error', (err) => {
    // spawn failed (no such program, not executable …): nothing runs
    const error = `cannot start ${launch.argv[0]}: ${err.message}`;
    log.line('erne', error);
    finish({ exitCode: null, signal: null, error });
  });
  child.once('spawn', () => {
    const self = identify(process.pid);
    const program = identify(child.pid!);
    if (!self || !program) return; // already gone: the exit handler records it
    writeJson(paths.state, { runId: launch.runId, instanceId: launch.spec.instanceId, supervisor: self, program, startedAt: new Date().toISOString() } satisfies StateRecord);
    log.line('erne', `program running as pid ${child.pid}`);
  });
  child.once('exit', (code, signal) => {
    void Promise.race([closed, new Promise((r) => setTimeout(r, DRAIN_MS))]).then(() => {
      for (const s of servers) s.close();
      log.flush();
      log.line('erne', signal ? `program ended by ${signal}` : `program exited with code ${code}`);
      finish({ exitCode: code, signal });
    });
  });

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
    process.on(sig, () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }
}

main(process.argv[2] ?? '').catch((err: unknown) => {
  process.stderr.write(`erne machine supervisor: ${(err as Error).message}\n`);
  process.exit(1);
});
