/**
 * Build-once files under the image cache: a file's name carries the hash of its inputs, so a
 * changed input makes a new file and an unchanged one is reused. Built under a temporary name
 * and renamed, so a crash or a concurrent builder never leaves a half-built file under the
 * real name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function hashOf(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export async function cachedFile(cacheDir: string, name: string, build: (tmpPath: string) => Promise<void>): Promise<{ path: string; built: boolean }> {
  const path = join(cacheDir, name);
  if (existsSync(path)) return { path, built: false };
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await build(tmp);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { path, built: true };
}
