/**
 * `erne replication status` apart from a cluster: its table from status documents, where it
 * asks (--endpoint, --cluster, the default), and what it says of a gateway that is not one
 * region of a cluster (the other cases run against real regions in test/replication/observe.test.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { duration, failureLine, statusSources, statusTable } from '../../cli/replication-status.js';
import type { ReplicationStatus } from '../../replication/monitor.js';
import { runErne } from '../helpers/erne-run.js';
import { useGateway } from '../helpers/gateway.js';

const iad: ReplicationStatus = {
  region: 'iad',
  time: '2026-01-01T00:00:00.000Z',
  delivering: true,
  lagWindowSeconds: 300,
  destinations: [
    { dest: 'fra', outboxDepth: 0, outboxDepthCapped: false, oldestUnappliedSeconds: null, queueDepth: 0, lag: { samples: 10, p50Ms: 4.25, p99Ms: 18, maxMs: 20 }, delivered: 10, failed: 0 },
    { dest: 'sin', outboxDepth: 100000, outboxDepthCapped: true, oldestUnappliedSeconds: 95.5, queueDepth: null, queueError: 'Redis did not answer', lag: null, delivered: 0, failed: 7 },
  ],
  applied: { fra: 3 },
};

describe('erne replication status', () => {
  it('prints one row per pair, a capped backlog as "at least", and notes what is unknown', () => {
    const text = statusTable([
      { endpoint: 'http://iad:9000', region: 'iad', status: iad },
      { endpoint: 'http://fra:9000', region: 'fra', error: 'cannot be reached: connect ECONNREFUSED' },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'from  to    outbox  queue  oldest unapplied  lag p50  lag p99  delivered  failed',
      'iad   fra        0      0                 -   4.3 ms    18 ms         10       0',
      'iad   sin  ≥100000      -            95.5 s        -        -          0       7',
    ]);
    expect(lines.slice(3)).toEqual([
      'lag: commit to the destination\'s "applied", over the last 300 s; counts since each gateway started',
      'iad→sin: queue depth unknown: Redis did not answer',
    ]);
    expect(failureLine({ endpoint: 'http://fra:9000', region: 'fra', error: 'cannot be reached: connect ECONNREFUSED' })).toBe('fra at http://fra:9000 cannot be reached: connect ECONNREFUSED');
  });

  it.each([
    [0.04, '0.0 ms'],
    [4.25, '4.3 ms'],
    [18, '18 ms'],
    [1500, '1.5 s'],
    [600_000, '10 min'],
    [null, '-'],
  ])('duration(%s) is %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });

  it('asks each --endpoint, every region of --cluster at its internal URLs, else 127.0.0.1:9000', () => {
    const dir = mkdtempSync(join(tmpdir(), 'erne-status-'));
    const file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify({ regions: [{ name: 'iad', internal: ['http://10.0.1.5:9000', 'http://10.0.1.6:9000/'] }, { name: 'fra', internal: 'http://10.0.2.5:9000' }] }));
    expect(statusSources({ endpoint: 'http://a:1,http://b:2', cluster: file })).toEqual([
      { urls: ['http://a:1'] },
      { urls: ['http://b:2'] },
      { region: 'iad', urls: ['http://10.0.1.5:9000', 'http://10.0.1.6:9000'] },
      { region: 'fra', urls: ['http://10.0.2.5:9000'] },
    ]);
    expect(statusSources({})).toEqual([{ urls: ['http://127.0.0.1:9000'] }]);
    expect(() => statusSources({ endpoint: 'ftp://x' })).toThrow(/^--endpoint: expected an http\(s\) URL, got "ftp:\/\/x"$/);
    expect(() => statusSources({ cluster: join(dir, 'missing.json') })).toThrow(/cannot read the cluster file .*missing.json: ENOENT/);
  });

  describe('against a gateway started without --cluster', () => {
    const erne = useGateway();
    it('/.erne/replication is 404 and the command says, in one line, that it is not one region of a cluster', async () => {
      const res = await fetch(`${erne.gw.url}/.erne/replication`);
      expect(res.status).toBe(404);
      const run = await runErne(['replication', 'status', '--endpoint', erne.gw.url]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(`erne: ${erne.gw.url} is not one region of a cluster (started without --cluster)\n`);
    });
  });
});
