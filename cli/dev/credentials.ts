/**
 * The secrets one `erne dev` cluster shares: the root key every region's gateway is given (so
 * one key works in every region) and the cluster secret that authenticates regions to each
 * other. Made once and kept in DATA_DIR/credentials.json (mode 0600), so a restarted `erne dev`
 * prints the same keys and its regions keep trusting each other.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_KEY_ID_PATTERN, SECRET_KEY_PATTERN, generateAccessKeyId, generateSecretKey } from '../../metadata/keygen.js';
import { MIN_SECRET_LENGTH } from '../../replication/topology.js';
import { CommandError } from '../errors.js';

export const CREDENTIALS_FILE = 'credentials.json';

export interface DevCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  clusterSecret: string;
}

/** reads DATA_DIR/credentials.json, or makes and writes it; `root` (from the environment) wins */
export function devCredentials(dataDir: string, root: { rootAccessKey?: string; rootSecretKey?: string } = {}): DevCredentials {
  const file = join(dataDir, CREDENTIALS_FILE);
  let kept: DevCredentials | undefined;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CommandError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (text !== undefined) {
    kept = parse(text);
    if (!kept) throw new CommandError(`${file} is not what erne dev wrote (accessKeyId, secretAccessKey, clusterSecret); remove it to make new keys`);
  }
  const creds: DevCredentials = kept ?? { accessKeyId: generateAccessKeyId(), secretAccessKey: generateSecretKey(), clusterSecret: randomBytes(32).toString('base64url') };
  if (!kept) writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  if (root.rootAccessKey !== undefined && root.rootSecretKey !== undefined) {
    return { ...creds, accessKeyId: root.rootAccessKey, secretAccessKey: root.rootSecretKey };
  }
  return creds;
}

function parse(text: string): DevCredentials | undefined {
  try {
    const o = JSON.parse(text) as Partial<Record<keyof DevCredentials, unknown>>;
    const { accessKeyId, secretAccessKey, clusterSecret } = o;
    if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID_PATTERN.test(accessKeyId)) return undefined;
    if (typeof secretAccessKey !== 'string' || !SECRET_KEY_PATTERN.test(secretAccessKey)) return undefined;
    if (typeof clusterSecret !== 'string' || clusterSecret.length < MIN_SECRET_LENGTH) return undefined;
    return { accessKeyId, secretAccessKey, clusterSecret };
  } catch {
    return undefined;
  }
}
