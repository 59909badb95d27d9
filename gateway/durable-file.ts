/**
 * A small file the gateway keeps in its data directory (node-id, root-credentials.json),
 * written so that a power cut leaves either the whole old state or the whole new file: temp
 * file, fsync, rename, fsync of the directory. A plain write can leave an empty file after a
 * power cut on ext4 (the name is journaled before the data is written), which the microVM
 * power-loss test showed: node-id came back empty and the gateway could not start.
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileDurably(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
