/**
 * `erne storage migrate NAME`: asks a gateway (--endpoint) to copy the bucket's shadow source
 * in (gateway/shadow/migrate.ts), then prints a progress line whenever it moved, until it is
 * done. The copy runs in the gateway: stopping this command does not stop it, and a gateway
 * that crashed resumes it where its cursor says when it starts again.
 */
import type { FlagValues } from '../args.js';
import { UsageError } from '../args.js';
import { isRemote } from '../admin/open.js';
import { withAdmin } from '../admin/run.js';
import { CommandError } from '../errors.js';
import { migrationLine } from './shadow.js';
import type { StorageIo } from './storage.js';

const POLL_MS = 1000;

export async function storageMigrate(flags: FlagValues, name: string, io: StorageIo): Promise<void> {
  if (!isRemote(flags)) throw new UsageError('a migration runs in a gateway: give --endpoint URL (or ERNE_ENDPOINT) of a running one');
  await withAdmin(flags, io.env, async (admin) => {
    let m = await admin.migrate(name);
    const print = () => io.out(flags['json'] ? JSON.stringify(m) + '\n' : `${name}: ${migrationLine(m)}\n`);
    print();
    if (flags['detach'] === true) return;
    let last = migrationLine(m);
    while (m.state === 'running') {
      await new Promise((r) => setTimeout(r, POLL_MS));
      m = await admin.migration(name);
      const line = migrationLine(m);
      if (line !== last) print();
      last = line;
    }
    if (m.state === 'failed') throw new CommandError(`the migration of ${name} failed: ${m.error ?? 'no reason given'} (run it again to resume)`);
    io.err(`erne: ${name} holds everything its shadow source held; 'erne storage update ${name} --no-shadow' ends the shadow\n`);
  });
}
