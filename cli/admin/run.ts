/**
 * Runs a command's work against the Admin that --endpoint or --data-dir chose, closing it
 * after; refusals (AdminError, from either side) become one line for people.
 */
import { AdminError, type Admin } from '../../gateway/admin/types.js';
import type { FlagValues } from '../args.js';
import { CommandError } from '../errors.js';
import { openAdmin } from './open.js';

export type Env = Record<string, string | undefined>;

export async function withAdmin<T>(flags: FlagValues, env: Env, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = await openAdmin(flags, env);
  try {
    return await fn(admin);
  } catch (err) {
    throw err instanceof AdminError ? new CommandError(refusal(err, flags)) : err;
  } finally {
    await admin.close();
  }
}

function refusal(err: AdminError, flags: FlagValues): string {
  if (err.code === 'AccessDenied' || err.code === 'InvalidAccessKeyId' || err.code === 'SignatureDoesNotMatch') {
    return `${flags['endpoint']} refused the admin request (${err.code}): ${err.message}`;
  }
  return err.message;
}
