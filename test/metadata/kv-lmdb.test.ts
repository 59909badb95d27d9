import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdb } from '../../metadata/lmdb.js';
import type { KvStore } from '../../metadata/kv.js';
import { kvConformance } from './kv-conformance.js';

kvConformance('lmdb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'erne-kv-'));
  let kv: KvStore = await openLmdb(dir);
  return {
    get kv() {
      return kv;
    },
    async reopen() {
      await kv.close();
      kv = await openLmdb(dir);
      return kv;
    },
    async cleanup() {
      await kv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
