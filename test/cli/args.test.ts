import { describe, expect, it } from 'vitest';
import { COMMANDS, parseCommandLine, type ParsedCommandLine } from '../../cli/args.js';

/** the metadata flags every command that opens the region's metadata takes */
const META = { metadata: 'lmdb', 'metadata-dir': undefined, 'fdb-cluster-file': undefined, 'fdb-api-version': 710 };

const serveDefaults = {
  port: 9000,
  host: '127.0.0.1',
  'data-dir': './data',
  region: 'local',
  domain: undefined,
  'node-id': undefined,
  'inline-threshold': undefined,
  metadata: 'lmdb',
  'metadata-dir': undefined,
  'fdb-cluster-file': undefined,
  'fdb-api-version': 710,
  'internal-url': undefined,
  workers: 1,
  'log-level': 'info',
  'tls-cert': undefined,
  'tls-key': undefined,
  'max-connections-per-client': 256,
  'metrics-port': undefined,
  'no-sigv2': undefined,
  cluster: undefined,
  'redis-url': undefined,
};

type Case = [name: string, argv: string[], env: Record<string, string>, expected: Partial<ParsedCommandLine> & Record<string, unknown>];

const runs: Case[] = [
  ['serve with defaults', ['serve'], {}, { command: 'serve', flags: serveDefaults, positionals: [] }],
  ['the per-client connection cap from its flag', ['serve', '--max-connections-per-client', '32'], {}, { command: 'serve', flags: { ...serveDefaults, 'max-connections-per-client': 32 }, positionals: [] }],
  ['the per-client connection cap from the environment', ['serve'], { ERNE_MAX_CONNECTIONS_PER_CLIENT: '64' }, { command: 'serve', flags: { ...serveDefaults, 'max-connections-per-client': 64 }, positionals: [] }],
  [
    'serve with every flag',
    ['serve', '--port', '9100', '--host', '0.0.0.0', '--data-dir', '/srv/erne', '--region', 'eu-west', '--domain', 's3.example.test', '--node-id', 'n1', '--inline-threshold', '4096'],
    {},
    {
      command: 'serve',
      flags: { ...serveDefaults, port: 9100, host: '0.0.0.0', 'data-dir': '/srv/erne', region: 'eu-west', domain: 's3.example.test', 'node-id': 'n1', 'inline-threshold': 4096 },
    },
  ],
  [
    'serve on FoundationDB with workers',
    ['serve', '--metadata', 'fdb', '--fdb-cluster-file', '/etc/foundationdb/fdb.cluster', '--fdb-api-version', '730', '--workers', '4', '--internal-url', 'http://10.0.0.5:9000'],
    {},
    {
      command: 'serve',
      flags: { ...serveDefaults, metadata: 'fdb', 'fdb-cluster-file': '/etc/foundationdb/fdb.cluster', 'fdb-api-version': 730, workers: 4, 'internal-url': 'http://10.0.0.5:9000' },
    },
  ],
  [
    'FoundationDB and shared LMDB settings from the environment',
    ['serve'],
    { ERNE_METADATA: 'fdb', FDB_CLUSTER_FILE: '/c/fdb.cluster', ERNE_WORKERS: '2', ERNE_METADATA_DIR: '/shared/meta' },
    { command: 'serve', flags: { ...serveDefaults, metadata: 'fdb', 'fdb-cluster-file': '/c/fdb.cluster', workers: 2, 'metadata-dir': '/shared/meta' } },
  ],
  [
    'serve with operator flags (TLS, logs, metrics port) from flags and environment',
    ['serve', '--tls-cert', '/etc/erne/cert.pem', '--metrics-port', '9090'],
    { ERNE_TLS_KEY: '/etc/erne/key.pem', ERNE_LOG_LEVEL: 'warn' },
    { command: 'serve', flags: { ...serveDefaults, 'tls-cert': '/etc/erne/cert.pem', 'tls-key': '/etc/erne/key.pem', 'metrics-port': 9090, 'log-level': 'warn' } },
  ],
  [
    'keys create with a role on two buckets',
    ['keys', 'create', '--bucket', 'a,b', '--role', 'ReadOnly'],
    {},
    { command: 'keys create', flags: { 'access-key': undefined, 'secret-key': undefined, root: undefined, name: undefined, json: undefined, 'data-dir': './data', region: 'local', bucket: 'a,b', role: 'ReadOnly', ...META } },
  ],
  ['serve v4 only: --no-sigv2', ['serve', '--no-sigv2'], {}, { command: 'serve', flags: { ...serveDefaults, 'no-sigv2': true } }],
  ['serve v4 only from the environment: ERNE_NO_SIGV2', ['serve'], { ERNE_NO_SIGV2: 'true' }, { command: 'serve', flags: { ...serveDefaults, 'no-sigv2': true } }],
  [
    'serve in a cluster: --cluster, --redis-url',
    ['serve', '--region', 'fra', '--cluster', 'cluster.json', '--redis-url', 'redis://10.0.0.5:6379'],
    {},
    { command: 'serve', flags: { ...serveDefaults, region: 'fra', cluster: 'cluster.json', 'redis-url': 'redis://10.0.0.5:6379' } },
  ],
  [
    'serve in a cluster from the environment: ERNE_CLUSTER, ERNE_REDIS_URL',
    ['serve'],
    { ERNE_CLUSTER: '/etc/erne/cluster.json', ERNE_REDIS_URL: 'redis://r:6380' },
    { command: 'serve', flags: { ...serveDefaults, cluster: '/etc/erne/cluster.json', 'redis-url': 'redis://r:6380' } },
  ],
  ['serve --flag=value form', ['serve', '--port=0'], {}, { command: 'serve', flags: { ...serveDefaults, port: 0 } }],
  [
    'environment twins fill in',
    ['serve'],
    { ERNE_PORT: '9200', ERNE_HOST: '::1', ERNE_DATA_DIR: '/d', ERNE_REGION: 'r2', ERNE_DOMAIN: 'x.test', ERNE_NODE_ID: 'n2' },
    { command: 'serve', flags: { ...serveDefaults, port: 9200, host: '::1', 'data-dir': '/d', region: 'r2', domain: 'x.test', 'node-id': 'n2' } },
  ],
  [
    'a flag wins over its environment twin',
    ['serve', '--port', '9300', '--region', 'flag-region'],
    { ERNE_PORT: '9200', ERNE_REGION: 'env-region' },
    { command: 'serve', flags: { ...serveDefaults, port: 9300, region: 'flag-region' } },
  ],
  ['an empty environment variable counts as unset', ['serve'], { ERNE_PORT: '' }, { command: 'serve', flags: serveDefaults }],
  [
    'keys create with a given pair',
    ['keys', 'create', '--access-key', 'AKID1234', '--secret-key', 'sekrit-sekrit', '--root', '--name', 'ci', '--json'],
    {},
    {
      command: 'keys create',
      flags: { 'access-key': 'AKID1234', 'secret-key': 'sekrit-sekrit', root: true, name: 'ci', json: true, 'data-dir': './data', region: 'local', ...META },
    },
  ],
  [
    'keys create generated, data dir from the environment',
    ['keys', 'create'],
    { ERNE_DATA_DIR: '/var/erne' },
    { command: 'keys create', flags: { 'access-key': undefined, 'secret-key': undefined, root: undefined, name: undefined, json: undefined, 'data-dir': '/var/erne', region: 'local', ...META } },
  ],
  ['keys list --json', ['keys', 'list', '--json'], {}, { command: 'keys list', flags: { json: true, 'data-dir': './data', region: 'local', ...META } }],
  [
    'keys list on FoundationDB',
    ['keys', 'list', '--metadata', 'fdb', '--fdb-cluster-file', '/etc/foundationdb/fdb.cluster'],
    {},
    { command: 'keys list', flags: { json: undefined, 'data-dir': './data', region: 'local', ...META, metadata: 'fdb', 'fdb-cluster-file': '/etc/foundationdb/fdb.cluster' } },
  ],
  ['keys delete ID', ['keys', 'delete', 'EKABC', '--data-dir', 'x'], {}, { command: 'keys delete', positionals: ['EKABC'], flags: { 'data-dir': 'x', region: 'local', ...META } }],
  [
    'storage create with short flags, the cluster and root key from the environment',
    ['storage', 'create', '-n', 'photos', '-a', 'web', '-y', '--public', '--locations', 'iad,fra'],
    { ERNE_ENDPOINT: 'http://gw:9000', ERNE_ROOT_ACCESS_KEY: 'ROOTKEY', ERNE_ROOT_SECRET_KEY: 'rootsecret', ERNE_MACHINES_ENDPOINT: 'http://m:4280', ERNE_MACHINES_TOKEN: 'tok' },
    {
      command: 'storage create',
      flags: expect.objectContaining({ name: 'photos', app: 'web', yes: true, public: true, locations: 'iad,fra', role: 'Editor', endpoint: 'http://gw:9000', 'root-access-key': 'ROOTKEY', 'root-secret-key': 'rootsecret', 'machines-endpoint': 'http://m:4280', 'machines-token': 'tok' }),
    },
  ],
  ['storage destroy NAME -y --force', ['storage', 'destroy', 'photos', '-y', '--force'], {}, { command: 'storage destroy', positionals: ['photos'], flags: expect.objectContaining({ yes: true, force: true }) }],
  [
    'replication status: --endpoint given several times',
    ['replication', 'status', '--endpoint', 'http://a:9000', '--endpoint', 'http://b:9000', '--json'],
    { ERNE_ENDPOINT: 'http://ignored:1' },
    { command: 'replication status', flags: { endpoint: 'http://a:9000,http://b:9000', cluster: undefined, json: true } },
  ],
  [
    'replication status: endpoints and cluster file from the environment',
    ['replication', 'status'],
    { ERNE_ENDPOINT: 'http://a:9000,http://b:9000', ERNE_CLUSTER: '/etc/erne/cluster.json' },
    { command: 'replication status', flags: { endpoint: 'http://a:9000,http://b:9000', cluster: '/etc/erne/cluster.json', json: undefined } },
  ],
];

const usageErrors: [name: string, argv: string[], env: Record<string, string>, message: RegExp][] = [
  ['no command', [], {}, /missing command/],
  ['unknown command', ['frobnicate'], {}, /unknown command 'frobnicate'/],
  ['unknown keys subcommand', ['keys', 'rotate'], {}, /^unknown command 'keys rotate'; try 'erne keys --help'$/],
  ['keys without subcommand', ['keys'], {}, /needs a subcommand/],
  ['unknown flag', ['serve', '--prot', '9000'], {}, /--prot/],
  ['flag of another command', ['keys', 'list', '--port', '1'], {}, /--port/],
  ['missing flag value', ['serve', '--port'], {}, /--port/],
  ['port not a number', ['serve', '--port', 'http'], {}, /--port: expected a port number/],
  ['port out of range', ['serve', '--port', '70000'], {}, /--port: expected a port number/],
  ['bad port in the environment names the variable', ['serve'], { ERNE_PORT: 'abc' }, /ERNE_PORT: expected a port number/],
  ['zero workers', ['serve', '--workers', '0'], {}, /--workers: expected a whole number/],
  ['workers not a number', ['serve'], { ERNE_WORKERS: 'many' }, /ERNE_WORKERS: expected a whole number/],
  ['negative inline threshold', ['serve', '--inline-threshold', '-1'], {}, /inline-threshold/],
  ['inline threshold over its maximum', ['serve', '--inline-threshold', '100000'], {}, /^--inline-threshold: at most 65536, got 100000$/],
  ['keys delete without an id', ['keys', 'delete'], {}, /missing ACCESS_KEY_ID/],
  ['keys delete with two ids', ['keys', 'delete', 'A', 'B'], {}, /unexpected argument 'B'/],
  ['serve takes no positionals', ['serve', 'extra'], {}, /unexpected argument 'extra'/],
  ['replication status takes no positionals', ['replication', 'status', 'iad'], {}, /unexpected argument 'iad'/],
  ['boolean flag given a value', ['keys', 'list', '--json=yes'], {}, /json/],
];

describe('parseCommandLine', () => {
  it.each(runs)('%s', (_name, argv, env, expected) => {
    const got = parseCommandLine(argv, env);
    expect(got.kind).toBe('run');
    if (got.kind !== 'run') return;
    expect(got.command).toBe(expected.command);
    expect(got.flags).toEqual(expected.flags ?? got.flags);
    expect(got.positionals).toEqual((expected as { positionals?: string[] }).positionals ?? []);
  });

  it.each(usageErrors)('usage error: %s', (_name, argv, env, message) => {
    const got = parseCommandLine(argv, env);
    expect(got.kind).toBe('usage-error');
    if (got.kind !== 'usage-error') return;
    expect(got.message).toMatch(message);
    expect(got.message).not.toContain('\n');
  });

  it.each([
    [['--help'], /usage: erne <command>/],
    [['help'], /usage: erne <command>/],
    [['serve', '--help'], /usage: erne serve \[flags\][\s\S]*--port N[\s\S]*ERNE_PORT/],
    [['serve', '--port', 'bad', '--help'], /usage: erne serve/],
    [['serve', '--help'], /--region NAME +this region's name; clients sign requests for it, us-east-1 or auto \(env ERNE_REGION, default local\)/],
    [['keys', '--help'], /usage: erne keys <command>[\s\S]*keys create/],
    [['keys', 'create', '--help'], /--access-key ID[\s\S]*--secret-key SECRET/],
    [['keys', 'list', '-h'], /usage: erne keys list/],
    [['keys', 'delete', '--help'], /usage: erne keys delete ACCESS_KEY_ID/],
  ])('help: %j', (argv, text) => {
    const got = parseCommandLine(argv, {});
    expect(got.kind).toBe('help');
    if (got.kind === 'help') expect(got.text).toMatch(text);
  });

  it('every command and every flag with an environment twin shows up in help', () => {
    for (const spec of COMMANDS) {
      const got = parseCommandLine([...spec.path, '--help'], {});
      if (got.kind !== 'help') throw new Error(`no help for ${spec.path.join(' ')}`);
      for (const f of spec.flags) {
        expect(got.text).toContain(`--${f.name}`);
        if (f.env) expect(got.text).toContain(f.env);
      }
    }
  });

  it('--version', () => {
    expect(parseCommandLine(['--version'], {})).toEqual({ kind: 'version' });
  });
});
