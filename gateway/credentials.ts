import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { generateAccessKeyId, generateSecretKey } from '../metadata/keygen.js';
import type { ObjectLayer } from '../metadata/object-layer.js';

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export function generateKeyPair(): KeyPair {
  return { accessKeyId: generateAccessKeyId(), secretAccessKey: generateSecretKey() };
}

/**
 * The root key: given (ERNE_ROOT_ACCESS_KEY/SECRET), or generated once and kept in the
 * data directory so restarts keep working with the same credentials.
 */
export async function ensureRootKey(layer: ObjectLayer, dataDir: string, given?: Partial<KeyPair>): Promise<KeyPair> {
  let pair: KeyPair;
  if (given?.accessKeyId && given.secretAccessKey) {
    pair = { accessKeyId: given.accessKeyId, secretAccessKey: given.secretAccessKey };
  } else {
    const file = join(dataDir, 'root-credentials.json');
    try {
      pair = JSON.parse(await readFile(file, 'utf8')) as KeyPair;
    } catch {
      pair = generateKeyPair();
      await mkdir(dataDir, { recursive: true });
      await writeFile(file + '.tmp', JSON.stringify(pair, null, 2) + '\n', { mode: 0o600 });
      await rename(file + '.tmp', file);
    }
  }
  const existing = await layer.getAccessKey(pair.accessKeyId);
  if (!existing || existing.secretAccessKey !== pair.secretAccessKey || !existing.root) {
    await layer.putAccessKey({ ...pair, root: true, createdAt: existing?.createdAt ?? Date.now(), name: 'root' });
  }
  return pair;
}
