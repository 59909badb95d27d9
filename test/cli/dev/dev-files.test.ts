/**
 * What `erne dev` decides before it starts anything: its flags (table-driven), the cluster file
 * it writes (read back by the topology loader every gateway uses) and the keys it keeps.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../cli/args.js';
import { clusterDoc, writeClusterFile } from '../../../cli/dev/cluster-file.js';
import { CREDENTIALS_FILE, devCredentials } from '../../../cli/dev/credentials.js';
import { devOptions, parseLatency, parseRegions } from '../../../cli/dev/options.js';
import { loadTopology } from '../../../replication/topology.js';
import { tempDir } from '../../helpers/gateway.js';

const dir = tempDir('erne-dev-files-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('erne dev flags', () => {
  it.each([
    ['50ms', 50],
    ['0.2s', 200],
    ['1s', 1000],
    ['0', 0],
    ['0ms', 0],
    [' 12.5ms ', 12.5],
  ])('--latency %j is %d ms', (text, ms) => {
    expect(parseLatency(text)).toBe(ms);
  });

  it.each([
    ['fast', /--latency: expected a one-way delay like 50ms or 0\.2s, got "fast"/],
    ['50', /got "50"/],
    ['-5ms', /got "-5ms"/],
    ['5 min', /got "5 min"/],
    ['11s', /--latency: at most 10s, got 11s/],
  ])('--latency %j is refused', (text, message) => {
    expect(() => parseLatency(text)).toThrow(message);
  });

  it.each([
    ['iad,fra,sin', ['iad', 'fra', 'sin']],
    [' iad , fra ', ['iad', 'fra']],
    ['eu-west-1', ['eu-west-1']],
  ])('--regions %j', (text, names) => {
    expect(parseRegions(text)).toEqual(names);
  });

  it.each([
    [',', /--regions: name at least one region/],
    ['iad,,iad', /--regions: iad is named twice/],
    ['IAD', /--regions: "IAD" is not a region name/],
    ['-x', /"-x" is not a region name/],
  ])('--regions %j is refused', (text, message) => {
    expect(() => parseRegions(text)).toThrow(message);
  });

  it('reads its ERNE_DEV_ twins, the flag winning', () => {
    const parsed = parseCommandLine(['dev', '--latency', '20ms'], { ERNE_DEV_REGIONS: 'ams,nrt', ERNE_DEV_LATENCY: '99ms', ERNE_DEV_PORT: '7000' });
    expect(parsed.kind).toBe('run');
    const opts = devOptions((parsed as { flags: Record<string, string> }).flags);
    expect(opts).toMatchObject({ regions: ['ams', 'nrt'], latencyMs: 20, port: 7000, dataDir: './erne-dev', json: false });
    const defaults = parseCommandLine(['dev'], {});
    expect(devOptions((defaults as { flags: Record<string, string> }).flags)).toMatchObject({ regions: ['iad', 'fra', 'sin'], latencyMs: undefined, port: 0 });
  });

  it('refuses a first port whose followers run past 65535', () => {
    const parsed = parseCommandLine(['dev', '--port', '65535', '--regions', 'a,b'], {});
    expect(() => devOptions((parsed as { flags: Record<string, string> }).flags)).toThrow(/--port: 2 regions need ports 65535\.\.65536, past 65535/);
  });
});

describe('the cluster file', () => {
  it('is what every gateway loads: all regions with their internal URLs, the first one in control', () => {
    const file = join(dir, 'cluster.json');
    writeClusterFile(
      file,
      clusterDoc([
        { name: 'iad', internalUrl: 'http://127.0.0.1:4001' },
        { name: 'fra', internalUrl: 'http://127.0.0.1:4002' },
        { name: 'sin', internalUrl: 'http://127.0.0.1:4003' },
      ]),
    );
    const t = loadTopology(file, 'fra', { ERNE_CLUSTER_SECRET: 'a-secret-of-enough-length' });
    expect(t.control).toBe('iad');
    expect(t.regions).toEqual([
      { name: 'iad', internal: ['http://127.0.0.1:4001'] },
      { name: 'fra', internal: ['http://127.0.0.1:4002'] },
      { name: 'sin', internal: ['http://127.0.0.1:4003'] },
    ]);
    // the secret travels in the environment, never in the file
    expect(readFileSync(file, 'utf8')).not.toMatch(/secret/);
  });
});

describe('the kept keys', () => {
  it('are made once (readable by the owner only) and read back the same', () => {
    const d = join(dir, 'keys');
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    const first = devCredentials(d);
    expect(statSync(join(d, CREDENTIALS_FILE)).mode & 0o777).toBe(0o600);
    expect(devCredentials(d)).toEqual(first);
    expect(first.clusterSecret.length).toBeGreaterThanOrEqual(16);
    // a root key named in the environment wins; the cluster secret stays
    expect(devCredentials(d, { rootAccessKey: 'MYROOTKEY', rootSecretKey: 'my-root-secret' })).toEqual({ ...first, accessKeyId: 'MYROOTKEY', secretAccessKey: 'my-root-secret' });
  });

  it('a damaged file is one line naming it', () => {
    const d = join(dir, 'damaged');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, CREDENTIALS_FILE), '{"accessKeyId": 1}');
    expect(() => devCredentials(d)).toThrow(/credentials\.json is not what erne dev wrote \(accessKeyId, secretAccessKey, clusterSecret\); remove it to make new keys$/);
  });
});
