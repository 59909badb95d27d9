/**
 * `erne replication repair` apart from a cluster: its report lines, and the operator's
 * mistakes — no cluster secret, a gateway that cannot be reached, one that refuses the
 * signature, one that is not part of a cluster — each one line on stderr, exit code 1. (The
 * repair itself runs against real regions in test/replication/repair/repair-regions.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { parseTime } from '../../cli/cluster-flags.js';
import { runLines } from '../../cli/replication-repair.js';
import { freePort } from '../helpers/child.js';
import { runErne } from '../helpers/erne-run.js';
import { useGateway } from '../helpers/gateway.js';

describe('erne replication repair', () => {
  it('reports per peer what was compared and fixed, and the collection', () => {
    const lines = runLines('http://fra:9000', {
      region: 'fra',
      startedAt: 0,
      ms: 1500,
      peers: [
        { peer: 'iad', buckets: 2, entriesHere: 1_000_000, entriesThere: 1_000_004, ranges: 70, leaves: 2, fetched: 4, sent: 0, changesFetched: 5, changesSent: 0, ms: 1400, skipped: [], waiting: 0 },
        { peer: 'sin', error: 'region sin cannot be reached: connect ECONNREFUSED' },
      ],
      collection: { missing: ['sin'] },
    });
    expect(lines).toEqual([
      'fra (http://fra:9000): 1.5 s',
      '  with iad: 2 bucket(s), 1,000,000 entries here / 1,000,004 there, 70 ranges compared; fetched 4 (5 changes), sent 0 (0 changes) in 1.4 s',
      '  with sin: failed: region sin cannot be reached: connect ECONNREFUSED',
      '  tombstones: none collected: sin did not answer',
    ]);
  });

  it.each([
    ['5m', 300_000],
    ['30s', 30_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['0', 0],
  ])('serve --repair-interval %s is %i ms', (text, ms) => {
    expect(parseTime('repair-interval', text)).toBe(ms);
  });

  it.each(['5', 'soon', '-1s', '1d'])('serve --repair-interval %s is refused in one line', (text) => {
    expect(() => parseTime('repair-interval', text)).toThrow(`--repair-interval: expected a time like 30s, 5m or 1h (0: off), got ${JSON.stringify(text)}`);
  });

  it('without the cluster secret: one line, nothing asked', async () => {
    const run = await runErne(['replication', 'repair', '--endpoint', 'http://127.0.0.1:1'], { env: { ERNE_CLUSTER_SECRET: '' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('erne: the repair request is signed with the cluster secret: set ERNE_CLUSTER_SECRET (or give --cluster FILE with its secret)\n');
  });

  it('a gateway that cannot be reached: one line naming it', async () => {
    const port = await freePort();
    const run = await runErne(['replication', 'repair', '--endpoint', `http://127.0.0.1:${port}`], { env: { ERNE_CLUSTER_SECRET: 'a-secret-of-sixteen-chars' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^erne: http://127\\.0\\.0\\.1:${port}: cannot be reached: .*ECONNREFUSED.*\\n$`));
  });

  describe('against a gateway that is not part of a cluster', () => {
    const erne = useGateway();
    it('says so in one line', async () => {
      const run = await runErne(['replication', 'repair', '--endpoint', erne.gw.url], { env: { ERNE_CLUSTER_SECRET: 'a-secret-of-sixteen-chars' } });
      expect(run.code).toBe(1);
      expect(run.stderr.split('\n').length).toBe(2);
      expect(run.stderr).toMatch(/^erne: http:\/\/127\.0\.0\.1:\d+: .*answered 404/);
    });
  });
});
