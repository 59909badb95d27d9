/**
 * The KV conformance suite on FoundationDB. Runs only against a real cluster:
 *   ERNE_TEST_METADATA=fdb FDB_CLUSTER_FILE=/etc/foundationdb/fdb.cluster npx vitest run test/metadata
 * Each store gets its own random key prefix, cleared afterwards, so a shared cluster is fine.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KvStore } from '../../metadata/kv.js';
import { clearFdbStore, FdbUnavailableError, openFdb } from '../../metadata/fdb.js';
import { kvConformance } from './kv-conformance.js';
import { itWhere, withoutFdbBinding } from '../helpers/requires.js';

const clusterFile = process.env.FDB_CLUSTER_FILE;
const wanted = process.env.ERNE_TEST_METADATA === 'fdb' && !!clusterFile;

// without a cluster the suite is listed as skipped under this title, which says what it needs
describe.skipIf(!wanted)('on FoundationDB: needs ERNE_TEST_METADATA=fdb and FDB_CLUSTER_FILE naming a cluster file', () => {
  kvConformance('fdb', async () => {
    const prefix = `erne-test-${randomBytes(6).toString('hex')}`;
    let kv: KvStore = await openFdb({ clusterFile, prefix });
    return {
      get kv() {
        return kv;
      },
      async reopen() {
        await kv.close();
        kv = await openFdb({ clusterFile, prefix });
        return kv;
      },
      async cleanup() {
        await kv.close();
        await clearFdbStore({ clusterFile, prefix });
      },
    };
  });
});

// Where the binding is not installed (this machine), choosing FDB fails with one line.
describe('FoundationDB backend without the client library', () => {
  // where the package is installed the backend opens instead (the suite above covers it)
  itWhere(withoutFdbBinding)('refuses with one line that says what to install', async () => {
    const err = await openFdb({ clusterFile: '/nonexistent/fdb.cluster' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FdbUnavailableError);
    const msg = (err as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toContain('foundationdb-clients_7.3.x_amd64.deb');
    expect(msg).toContain('npm install foundationdb');
  });
});
