/**
 * The machine's volume as a raw ext4 disk image inside its volume directory: made sparse with
 * mkfs.ext4 at the first start, kept across stop/start, removed by destroy.
 */
import { closeSync, constants, existsSync, mkdirSync, openSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.js';

export const VOLUME_FILE = 'microvm-volume.img';

export async function ensureVolume(volumeDir: string, sizeMb: number): Promise<string> {
  mkdirSync(volumeDir, { recursive: true });
  const img = join(volumeDir, VOLUME_FILE);
  if (existsSync(img)) return img;
  const tmp = `${img}.new`;
  writeFileSync(tmp, '');
  truncateSync(tmp, sizeMb * 1024 * 1024);
  try {
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', 'erne-volume', tmp]);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  renameSync(tmp, img);
  return img;
}

/** Whether the file system under `file` takes O_DIRECT (tmpfs does not): cache=none needs it. */
export function directIoWorks(file: string): boolean {
  try {
    closeSync(openSync(file, constants.O_RDONLY | constants.O_DIRECT));
    return true;
  } catch {
    return false;
  }
}
