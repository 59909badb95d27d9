/** the in-memory KvStore of the tests (test/helpers/memory-kv.ts) behaves as the real backends do */
import { MemoryKv } from '../helpers/memory-kv.js';
import { kvConformance } from './kv-conformance.js';

kvConformance('memory', async () => {
  let kv = new MemoryKv();
  return {
    get kv() {
      return kv;
    },
    async reopen() {
      await kv.close();
      kv = kv.reopen();
      return kv;
    },
    async cleanup() {
      await kv.close();
    },
  };
});
