/** The cluster file: what is accepted, and the one line each mistake gets. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology, parseTopology, peersOf, TopologyError } from '../../replication/topology.js';

const SECRET = 'a-cluster-secret-of-some-length';
const good = {
  control: 'fra',
  secret: SECRET,
  regions: [
    { name: 'iad', internal: 'http://127.0.0.1:9101/' },
    { name: 'fra', internal: ['http://127.0.0.1:9201', 'http://127.0.0.1:9202'] },
  ],
};

describe('cluster topology', () => {
  it('reads regions, the control region, the secret; peers are the others', () => {
    const t = parseTopology(good, 'iad');
    expect(t).toEqual({
      self: 'iad',
      control: 'fra',
      secret: SECRET,
      regions: [
        { name: 'iad', internal: ['http://127.0.0.1:9101'] },
        { name: 'fra', internal: ['http://127.0.0.1:9201', 'http://127.0.0.1:9202'] },
      ],
    });
    expect(peersOf(t).map((r) => r.name)).toEqual(['fra']);
    expect(parseTopology({ ...good, control: undefined }, 'fra').control).toBe('iad');
    expect(parseTopology({ ...good, secret: undefined }, 'fra', { ERNE_CLUSTER_SECRET: 'from-the-environment!' }).secret).toBe('from-the-environment!');
  });

  const mistakes: [string, unknown, string, RegExp][] = [
    ['not an object', [], 'iad', /expected a JSON object/],
    ['no regions', { secret: SECRET, regions: [] }, 'iad', /"regions" must be a non-empty list/],
    ['bad name', { ...good, regions: [{ name: 'Bad Name', internal: 'http://x' }] }, 'iad', /regions\[0\]\.name/],
    ['twice', { ...good, regions: [good.regions[0], good.regions[0]] }, 'iad', /listed twice/],
    ['no url', { ...good, regions: [{ name: 'iad' }] }, 'iad', /regions\[0\]\.internal/],
    ['ftp url', { ...good, regions: [{ name: 'iad', internal: 'ftp://x' }] }, 'iad', /regions\[0\]\.internal/],
    ['not a member', good, 'sin', /this region \(sin\) is not among its regions \(iad, fra\)/],
    ['unknown control', { ...good, control: 'sin' }, 'iad', /"control" must name one of its regions/],
    ['no secret', { ...good, secret: undefined }, 'iad', /no cluster secret: set ERNE_CLUSTER_SECRET/],
    ['short secret', { ...good, secret: 'short' }, 'iad', /at least 16 characters/],
  ];
  it.each(mistakes)('%s: one clear line', (_what, doc, self, message) => {
    let err: unknown;
    try {
      parseTopology(doc, self);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TopologyError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('names the file when it cannot be read or parsed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'erne-topo-'));
    expect(() => loadTopology(join(dir, 'missing.json'), 'iad', {})).toThrow(/cannot read the cluster file .*missing\.json: ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{ "regions": [');
    expect(() => loadTopology(join(dir, 'bad.json'), 'iad', {})).toThrow(/bad\.json is not valid JSON/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(good));
    expect(loadTopology(join(dir, 'ok.json'), 'fra', {}).self).toBe('fra');
  });
});
