/**
 * The `erne` command: parses argv and runs the command, printing a mistake as one line. Kept
 * apart from erne.ts (which only calls it) so that a microVM image's startup snapshot can load
 * every module first and call it later (machines/drivers/microvm/snapshot.ts).
 */
import { readFileSync } from 'node:fs';
import { UsageError, parseCommandLine } from './args.js';
import { bucketsSetLocations, bucketsUpdate } from './buckets.js';
import { CommandError, keysCreate, keysDelete, keysList } from './keys.js';
import { serve } from './serve.js';

function version(): string {
  // compiled to dist/cli/erne.js, two levels below package.json
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** a yes/no question on the terminal (stderr, so stdout stays the command's output) */
async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function usageError(message: string): never {
  process.stderr.write(`erne: ${message}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const parsed = parseCommandLine(argv, process.env);
  const out = (s: string) => void process.stdout.write(s);
  switch (parsed.kind) {
    case 'usage-error':
      return usageError(parsed.message);
    case 'help':
      return out(parsed.text);
    case 'version':
      return out(`erne ${version()}\n`);
    case 'run':
      break;
  }
  const { command, flags, positionals } = parsed;
  switch (command) {
    case 'serve':
      return serve(flags, { out, env: process.env, exit: (code) => process.exit(code) });
    case 'keys create':
      return keysCreate(flags, out, (s) => void process.stderr.write(s));
    case 'keys list':
      return keysList(flags, out);
    case 'keys delete':
      return keysDelete(flags, positionals[0]!, out);
    case 'buckets update':
      return bucketsUpdate(flags, positionals[0]!, out);
    case 'buckets set-locations':
      return bucketsSetLocations(flags, positionals[0]!, out);
    case 'storage create':
    case 'storage list':
    case 'storage status':
    case 'storage update':
    case 'storage migrate':
    case 'storage destroy': {
      const storage = await import('./storage/storage.js');
      const io = { out, err: (s: string) => void process.stderr.write(s), env: process.env, ...(process.stdin.isTTY ? { confirm: askOnTerminal } : {}) };
      if (command === 'storage create') return storage.storageCreate(flags, io);
      if (command === 'storage list') return storage.storageList(flags, io);
      if (command === 'storage status') return storage.storageStatus(flags, positionals[0]!, io);
      if (command === 'storage update') return storage.storageUpdate(flags, positionals[0]!, io);
      if (command === 'storage migrate') return (await import('./storage/migrate.js')).storageMigrate(flags, positionals[0]!, io);
      return storage.storageDestroy(flags, positionals[0]!, io);
    }
    case 'bench': {
      // loaded lazily, like serve: other commands should not pay for the load generator
      const { benchCommand } = await import('../bench/cli.js');
      return benchCommand(flags, out);
    }
    case 'replication repair': {
      const { replicationRepair } = await import('./replication-repair.js');
      return replicationRepair(flags, process.env, out, (s) => void process.stderr.write(s));
    }
    case 'replication status': {
      const { replicationStatus } = await import('./replication-status.js');
      return replicationStatus(flags, out, (s) => void process.stderr.write(s));
    }
    case 'dev': {
      const { dev } = await import('./dev/dev.js');
      return dev(flags, { out, err: (s) => void process.stderr.write(s), env: process.env, exit: (code) => process.exit(code) });
    }
    default:
      if (command.startsWith('machines ')) {
        const { machinesCommand } = await import('./machines/run.js');
        return machinesCommand(command, flags, positionals, { out, err: (s) => void process.stderr.write(s), env: process.env, exit: (code) => process.exit(code) });
      }
      return usageError(`command '${command}' is not implemented`);
  }
}

/** runs the command line `argv` (without node and the script) to its end or to process.exit */
export function runCli(argv: string[]): Promise<void> {
  return main(argv).catch((err: unknown) => {
    if (err instanceof UsageError) usageError(err.message);
    // errors meant for people (a missing FoundationDB client, say) and the system's own (a file
    // that cannot be written: EACCES, ENOSPC …) are one line, not a stack
    const e = err as Error & { code?: unknown; syscall?: unknown };
    const oneLine = err instanceof CommandError || e?.name === 'FdbUnavailableError' || (typeof e?.code === 'string' && typeof e.syscall === 'string');
    const msg = oneLine ? e.message : (e?.stack ?? String(err));
    process.stderr.write(`erne: ${msg}\n`);
    process.exit(1);
  });
}
