import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from './durable-file.js';
import { generateAccessKeyId, generateSecretKey } from '../metadata/keygen.js';
import type { ObjectLayer } from '../metadata/object-layer.js';
import type { RootSource } from '../metadata/types.js';

export interface KeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

/** where a generated root key is kept, inside the data directory */
export const ROOT_CREDENTIALS_FILE = 'root-credentials.json';

export function generateKeyPair(): KeyPair {
  return { accessKeyId: generateAccessKeyId(), secretAccessKey: generateSecretKey() };
}

/** the pair kept in <dataDir>/root-credentials.json, if there is one */
export async function readRootCredentials(dataDir: string): Promise<KeyPair | undefined> {
  try {
    const pair = JSON.parse(await readFile(join(dataDir, ROOT_CREDENTIALS_FILE), 'utf8')) as Partial<KeyPair>;
    return pair.accessKeyId && pair.secretAccessKey ? { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * THE root key `erne serve` keeps: named by the environment (ERNE_ROOT_ACCESS_KEY/SECRET) when
 * set, otherwise generated once and kept in the data directory so restarts keep working with
 * the same credentials. There is one such key at a time: when the environment names another
 * one, the generated key is deleted with its file, and a root key an earlier environment named
 * is deleted too, so no key that is no longer printed anywhere stays valid. Root keys made with
 * `erne keys create --root` are the operator's and are left alone.
 */
export async function ensureRootKey(layer: ObjectLayer, dataDir: string, given?: Partial<KeyPair>, log?: (line: string) => void): Promise<KeyPair> {
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  const kept = await readRootCredentials(dataDir);
  let pair: KeyPair;
  let source: RootSource;
  const retire = new Map<string, string>();
  if (given?.accessKeyId && given.secretAccessKey) {
    pair = { accessKeyId: given.accessKeyId, secretAccessKey: given.secretAccessKey };
    source = 'env';
    if (kept && kept.accessKeyId !== pair.accessKeyId) retire.set(kept.accessKeyId, `generated, was in ${file}`);
  } else {
    source = 'generated';
    pair = kept ?? generateKeyPair();
    if (!kept) {
      await mkdir(dataDir, { recursive: true });
      await writeFileDurably(file, JSON.stringify(pair, null, 2) + '\n', 0o600);
    }
  }
  for (const k of await layer.listAccessKeys()) {
    if (k.rootSource === 'env' && k.accessKeyId !== pair.accessKeyId) retire.set(k.accessKeyId, 'named by an earlier ERNE_ROOT_ACCESS_KEY');
  }
  const existing = await layer.getAccessKey(pair.accessKeyId);
  if (!existing || existing.secretAccessKey !== pair.secretAccessKey || !existing.root || existing.rootSource !== source) {
    await layer.putAccessKey({ ...pair, root: true, createdAt: existing?.createdAt ?? Date.now(), name: 'root', rootSource: source });
  }
  for (const [id, why] of retire) {
    if (await layer.deleteAccessKey(id)) log?.(`root key ${id} (${why}) is retired: ${source === 'env' ? 'ERNE_ROOT_ACCESS_KEY' : file} names the root key now`);
  }
  // the file holds a secret that no longer opens anything
  if (source === 'env' && kept) await rm(file, { force: true });
  return pair;
}
