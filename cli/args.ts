import { parseArgs } from 'node:util';
import { BENCH_COMMAND } from '../bench/flags.js';
import { UNIVERSAL_REGIONS } from '../gateway/auth/regions.js';
import { MACHINES_COMMANDS } from './machines/commands.js';

/**
 * The `erne` command line as data: each command lists its flags once, and the parser, the
 * environment twins and the --help text are all derived from that table. Parsing is a pure
 * function of (argv, env) so it is tested without starting anything.
 */

export type FlagKind = 'string' | 'boolean' | 'port' | 'bytes' | 'count';

export interface FlagSpec {
  /** long name, kebab-case, without the dashes */
  name: string;
  kind: FlagKind;
  /** environment twin (flag wins) */
  env?: string;
  default?: string | number | boolean;
  /** largest value a 'bytes' flag takes */
  max?: number;
  /** placeholder shown in help */
  value?: string;
  /** may be given several times: the values are joined with ',' (the environment twin lists them so) */
  multiple?: boolean;
  /** a one-letter alias, e.g. 'f' for -f */
  short?: string;
  help: string;
}

export interface CommandSpec {
  /** words after `erne`, e.g. ['keys', 'create'] */
  path: string[];
  summary: string;
  /** names of positional arguments, all required */
  positionals?: string[];
  flags: FlagSpec[];
}

const dataDir: FlagSpec = { name: 'data-dir', kind: 'string', env: 'ERNE_DATA_DIR', default: './data', value: 'DIR', help: 'metadata and bytes live here' };
const region: FlagSpec = { name: 'region', kind: 'string', env: 'ERNE_REGION', default: 'local', value: 'NAME', help: "this region's name (the SigV4 region clients sign for)" };
const serveRegion: FlagSpec = { ...region, help: `this region's name; clients sign requests for it, ${UNIVERSAL_REGIONS.join(' or ')}` };
const metadataFlag: FlagSpec = { name: 'metadata', kind: 'string', env: 'ERNE_METADATA', default: 'lmdb', value: 'lmdb|fdb', help: "the region's metadata store: embedded LMDB or a FoundationDB cluster" };
const metadataDirFlag: FlagSpec = { name: 'metadata-dir', kind: 'string', env: 'ERNE_METADATA_DIR', value: 'DIR', help: 'LMDB environment (default DATA_DIR/meta); gateways of one host may share one' };
const fdbClusterFileFlag: FlagSpec = { name: 'fdb-cluster-file', kind: 'string', env: 'FDB_CLUSTER_FILE', value: 'FILE', help: "the region's FoundationDB cluster file (with --metadata fdb)" };
const fdbApiVersionFlag: FlagSpec = { name: 'fdb-api-version', kind: 'count', env: 'ERNE_FDB_API_VERSION', default: 710, value: 'N', help: 'FoundationDB API version (710 works with FDB 7.1 and later)' };
/** where the region's metadata lives: serve and the key commands read the same flags */
const metadataFlags = [metadataFlag, metadataDirFlag, fdbClusterFileFlag, fdbApiVersionFlag];
const json: FlagSpec = { name: 'json', kind: 'boolean', help: 'print JSON for machines' };
/** a running cluster's gateway, through its admin API (cli/admin/open.ts), instead of --data-dir */
const endpointFlag: FlagSpec = {
  name: 'endpoint',
  kind: 'string',
  env: 'ERNE_ENDPOINT',
  value: 'URL',
  help: "a gateway of a running cluster: work through its admin API, signed with a root key (--root-access-key/--root-secret-key, else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), not on --data-dir",
};
const rootKeyFlags: FlagSpec[] = [
  { name: 'root-access-key', kind: 'string', env: 'ERNE_ROOT_ACCESS_KEY', value: 'ID', help: 'with --endpoint: the root key to sign with' },
  { name: 'root-secret-key', kind: 'string', env: 'ERNE_ROOT_SECRET_KEY', value: 'SECRET', help: "with --endpoint: that key's secret" },
];
/** where `erne keys|buckets|storage` work: a data directory, or a cluster */
const whereFlags = (): FlagSpec[] => [endpointFlag, ...rootKeyFlags, dataDir, region, ...metadataFlags];
const yes: FlagSpec = { name: 'yes', short: 'y', kind: 'boolean', help: 'do not ask for confirmation' };
const locationsFlag: FlagSpec = { name: 'locations', kind: 'string', value: 'global|R,R|home:R', help: "where the bucket's bytes live: global (default), these regions, or one home region" };

/** a shadow source (gateway/shadow/): reads that miss are served from it and copied in */
const shadowFlags: FlagSpec[] = [
  { name: 'shadow-endpoint', kind: 'string', value: 'URL', help: 'shadow source: the S3 endpoint reads that miss go to (path-style)' },
  { name: 'shadow-bucket', kind: 'string', value: 'NAME', help: 'shadow source: its bucket' },
  { name: 'shadow-access-key', kind: 'string', env: 'ERNE_SHADOW_ACCESS_KEY', value: 'ID', help: 'shadow source: the access key to read it with' },
  { name: 'shadow-secret-key', kind: 'string', env: 'ERNE_SHADOW_SECRET_KEY', value: 'SECRET', help: "shadow source: that key's secret (stored in the bucket's metadata)" },
  { name: 'shadow-region', kind: 'string', value: 'REGION', help: 'shadow source: the SigV4 region it expects (default us-east-1)' },
  { name: 'shadow-write-through', kind: 'boolean', help: 'shadow source: PUTs and DELETEs go to it too' },
];

export const COMMANDS: CommandSpec[] = [
  {
    path: ['serve'],
    summary: 'run an S3 gateway for one region',
    flags: [
      { name: 'port', kind: 'port', env: 'ERNE_PORT', default: 9000, value: 'N', help: 'TCP port to listen on (0: any free port)' },
      { name: 'host', kind: 'string', env: 'ERNE_HOST', default: '127.0.0.1', value: 'ADDR', help: 'address to listen on' },
      dataDir,
      serveRegion,
      { name: 'domain', kind: 'string', env: 'ERNE_DOMAIN', value: 'DOMAIN', help: 'base domain for virtual-host-style requests (bucket.DOMAIN)' },
      { name: 'node-id', kind: 'string', env: 'ERNE_NODE_ID', value: 'ID', help: "this gateway's id, recorded with the bytes it stores" },
      { name: 'inline-threshold', kind: 'bytes', env: 'ERNE_INLINE_THRESHOLD', value: 'BYTES', max: 65536, help: 'objects up to this size are kept inside the metadata (≤ 65536)' },
      ...metadataFlags,
      { name: 'internal-url', kind: 'string', env: 'ERNE_INTERNAL_URL', value: 'URL', help: "where the region's other gateways reach this one (default: the listen address)" },
      { name: 'region-cache-bytes', kind: 'bytes', env: 'ERNE_REGION_CACHE_BYTES', value: 'BYTES', help: 'in a cluster: room for copies of bytes other regions hold, least recently used out (default 4 GiB)' },
      { name: 'workers', kind: 'count', env: 'ERNE_WORKERS', default: 1, value: 'N', help: 'gateway processes sharing the port, the metadata and the volume' },
      { name: 'log-level', kind: 'string', env: 'ERNE_LOG_LEVEL', default: 'info', value: 'LEVEL', help: 'JSON log level: fatal|error|warn|info|debug|trace|silent (info: one line per request)' },
      { name: 'tls-cert', kind: 'string', env: 'ERNE_TLS_CERT', value: 'FILE', help: 'serve HTTPS with this PEM certificate (chain); needs --tls-key' },
      { name: 'tls-key', kind: 'string', env: 'ERNE_TLS_KEY', value: 'FILE', help: "the certificate's PEM private key" },
      { name: 'max-connections-per-client', kind: 'count', env: 'ERNE_MAX_CONNECTIONS_PER_CLIENT', default: 256, value: 'N', help: 'open connections one client address may hold; more are closed at once' },
      { name: 'metrics-port', kind: 'port', env: 'ERNE_METRICS_PORT', value: 'N', help: 'also serve /.erne/metrics, /.erne/health, /.erne/ready on this port (plain HTTP)' },
      { name: 'no-sigv2', kind: 'boolean', env: 'ERNE_NO_SIGV2', help: 'refuse Signature Version 2 (AWS key:sig headers, v2 presigned URLs and POST forms): SigV4 only' },
      { name: 'cluster', kind: 'string', env: 'ERNE_CLUSTER', value: 'FILE', help: "join the cluster this JSON file describes (its regions, their internal URLs; the secret there or in ERNE_CLUSTER_SECRET); --region names this one" },
      { name: 'redis-url', kind: 'string', env: 'ERNE_REDIS_URL', value: 'URL', help: "with --cluster: this region's Redis, which queues changes for the other regions (default redis://127.0.0.1:6379)" },
      { name: 'repair-interval', kind: 'string', env: 'ERNE_REPAIR_INTERVAL', value: 'TIME', help: 'with --cluster: compare this region with every other (anti-entropy) and collect tombstones this often (default 5m); 0: only on `erne replication repair`' },
      { name: 'tombstone-grace', kind: 'string', env: 'ERNE_TOMBSTONE_GRACE', value: 'TIME', help: 'with --cluster: tombstones are kept this long after every region acknowledged them (default 1h); a repair can bring back a lost change only within it' },
    ],
  },
  {
    path: ['keys', 'create'],
    summary: 'add an access key pair (given or generated) and print it',
    flags: [
      { name: 'access-key', kind: 'string', value: 'ID', help: 'access key id to use (default: generated)' },
      { name: 'secret-key', kind: 'string', value: 'SECRET', help: 'secret to use (default: generated)' },
      { name: 'root', kind: 'boolean', help: 'the key may see and do everything' },
      { name: 'name', kind: 'string', value: 'TEXT', help: 'a label to recognise the key by' },
      { name: 'bucket', kind: 'string', value: 'B[,B…]', help: 'give the key a role on these buckets (it owns only the buckets it creates)' },
      { name: 'role', kind: 'string', value: 'Editor|ReadOnly', help: 'with --bucket: ReadOnly reads and lists; Editor also writes and deletes objects' },
      { name: 'scoped', kind: 'boolean', help: 'with --bucket: the key is refused on every other bucket and creates none' },
      json,
      ...whereFlags(),
    ],
  },
  { path: ['keys', 'list'], summary: 'list access keys (secrets are not shown)', flags: [json, ...whereFlags()] },
  { path: ['keys', 'delete'], summary: 'remove an access key', positionals: ['ACCESS_KEY_ID'], flags: whereFlags() },
  {
    path: ['buckets', 'update'],
    summary: "change a bucket's Erne settings (not S3 ACLs)",
    positionals: ['BUCKET'],
    flags: [
      { name: 'public', kind: 'boolean', help: 'anyone may read every object in the bucket (Erne’s public bucket; listing still follows its ACL)' },
      { name: 'no-public', kind: 'boolean', help: 'end that: its objects are read as their ACLs allow' },
      { name: 'consistent', kind: 'boolean', help: 'every object request is strongly consistent, as with X-Tigris-Consistent: true (executed by the bucket’s home region)' },
      { name: 'no-consistent', kind: 'boolean', help: 'end that: requests are served where they arrive unless they send the header' },
      ...whereFlags(),
    ],
  },
  {
    path: ['buckets', 'set-locations'],
    summary: "where a bucket's bytes live: global, a regions list (iad,fra) or a home region (home:fra); applies to new writes",
    positionals: ['BUCKET'],
    flags: [
      { ...locationsFlag, env: 'ERNE_LOCATIONS' },
      ...whereFlags(),
    ],
  },
  {
    path: ['storage', 'create'],
    summary: 'a bucket and a key scoped to it; prints the AWS_* variables an S3 SDK reads (or sets them on an app)',
    flags: [
      { name: 'name', short: 'n', kind: 'string', value: 'NAME', help: 'the bucket name (default: a generated one)' },
      { name: 'public', kind: 'boolean', help: 'anyone may read its objects' },
      locationsFlag,
      { name: 'role', kind: 'string', default: 'Editor', value: 'Editor|ReadOnly', help: "the key's role on the bucket" },
      { name: 'app', short: 'a', kind: 'string', value: 'APP', help: "set the variables as env on this app's machines (a new version, one machine at a time), not printing the secret" },
      { name: 's3-endpoint', kind: 'string', env: 'ERNE_S3_ENDPOINT', value: 'URL', help: 'the S3 URL apps are given as AWS_ENDPOINT_URL_S3 (default: --endpoint, else http://127.0.0.1:9000)' },
      { name: 'machines-endpoint', kind: 'string', env: 'ERNE_MACHINES_ENDPOINT', value: 'URL', help: 'with --app: the Machines API (Fly-shaped, e.g. https://api.machines.dev)' },
      { name: 'machines-token', kind: 'string', env: 'ERNE_MACHINES_TOKEN', value: 'TOKEN', help: 'with --app: its bearer token' },
      ...shadowFlags,
      yes,
      ...whereFlags(),
    ],
  },
  { path: ['storage', 'list'], summary: 'buckets with their settings', flags: [json, ...whereFlags()] },
  { path: ['storage', 'status'], summary: "a bucket's settings, objects, size and keys", positionals: ['NAME'], flags: [json, ...whereFlags()] },
  {
    path: ['storage', 'update'],
    summary: "change a bucket's public setting, locations or shadow source",
    positionals: ['NAME'],
    flags: [
      { name: 'public', kind: 'boolean', help: 'anyone may read its objects' },
      { name: 'private', kind: 'boolean', help: 'end that' },
      locationsFlag,
      ...shadowFlags,
      { name: 'no-shadow', kind: 'boolean', help: 'the bucket has no shadow source any more (after its migration)' },
      ...whereFlags(),
    ],
  },
  {
    path: ['storage', 'migrate'],
    summary: "copy everything from the bucket's shadow source into it, in the background of the gateway; prints progress",
    positionals: ['NAME'],
    flags: [{ name: 'detach', kind: 'boolean', help: 'start it and return (erne storage status NAME shows progress)' }, json, ...whereFlags()],
  },
  {
    path: ['storage', 'destroy'],
    summary: 'delete a bucket (asks first; an empty one only, unless --force)',
    positionals: ['NAME'],
    flags: [{ name: 'force', kind: 'boolean', help: 'delete its objects (every version) first' }, yes, ...whereFlags()],
  },
  BENCH_COMMAND,
  {
    path: ['dev'],
    summary: 'a whole cluster on this machine: per region a redis-server and a gateway, supervised',
    flags: [
      { name: 'regions', kind: 'string', env: 'ERNE_DEV_REGIONS', default: 'iad,fra,sin', value: 'R,R…', help: 'the regions to run; the first is the control region' },
      { name: 'latency', kind: 'string', env: 'ERNE_DEV_LATENCY', value: 'TIME', help: 'one-way delay between regions, e.g. 50ms (a proxy in front of each internal endpoint)' },
      { name: 'data-dir', kind: 'string', env: 'ERNE_DEV_DATA_DIR', default: './erne-dev', value: 'DIR', help: 'one data directory per region in here, the cluster file and the keys' },
      { name: 'port', kind: 'port', env: 'ERNE_DEV_PORT', default: 0, value: 'N', help: "the first region's S3 port, the next regions the next ports (0: any free ports)" },
      { name: 'verbose', kind: 'boolean', env: 'ERNE_DEV_VERBOSE', help: 'gateways log every request, not only warnings' },
      { name: 'driver', kind: 'string', env: 'ERNE_DEV_DRIVER', value: 'process|microvm', help: "run the gateways as machines of this driver, kept by a scheduler (default: erne dev's own supervisor)" },
      { name: 'machines-port', kind: 'port', env: 'ERNE_DEV_MACHINES_PORT', default: 0, value: 'N', help: 'with --driver: TCP port of the Machines API on 127.0.0.1 (0: any free port)' },
      { name: 'network', kind: 'string', env: 'ERNE_DEV_NETWORK', value: 'loopback|netns|auto', help: 'with --driver process: netns runs each region in a network namespace (root with iproute2), auto when it can' },
      json,
    ],
  },
  {
    path: ['replication', 'repair'],
    summary: 'compare a region with every other now (Merkle-style anti-entropy), fetch and send what either lacks, collect tombstones; report what was fixed',
    flags: [
      { name: 'endpoint', kind: 'string', env: 'ERNE_ENDPOINT', multiple: true, value: 'URL', help: "the gateway of the region that runs the pass (once per region to run it in several; default http://127.0.0.1:9000); signed with ERNE_CLUSTER_SECRET" },
      { name: 'cluster', kind: 'string', env: 'ERNE_CLUSTER', value: 'FILE', help: 'run it in every region this cluster file lists (the secret from the file or ERNE_CLUSTER_SECRET)' },
      { name: 'bucket', kind: 'string', env: 'ERNE_BUCKET', value: 'NAME', help: 'compare only this bucket (no tombstone collection then)' },
      json,
    ],
  },
  {
    path: ['replication', 'status'],
    summary: 'per source→destination region: outbox and queue backlog, oldest unapplied entry, lag p50/p99',
    flags: [
      { name: 'endpoint', kind: 'string', env: 'ERNE_ENDPOINT', multiple: true, value: 'URL', help: "a region's gateway (S3 or internal URL: the same port); once per region (default http://127.0.0.1:9000)" },
      { name: 'cluster', kind: 'string', env: 'ERNE_CLUSTER', value: 'FILE', help: 'ask every region this cluster file lists, at its internal URLs' },
      json,
    ],
  },
  ...MACHINES_COMMANDS,
];

export type FlagValues = Record<string, string | number | boolean | undefined>;

export type ParsedCommandLine =
  | { kind: 'run'; command: string; flags: FlagValues; positionals: string[] }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  /** exit code 2, `message` is one line for stderr */
  | { kind: 'usage-error'; message: string };

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function findCommand(words: string[]): { spec?: CommandSpec; group?: string; used: number } {
  for (const spec of COMMANDS) {
    if (spec.path.every((w, i) => words[i] === w)) return { spec, used: spec.path.length };
  }
  const group = COMMANDS.find((c) => c.path.length > 1 && c.path[0] === words[0]);
  return { group: group ? words[0] : undefined, used: group ? 1 : 0 };
}

function convert(flag: FlagSpec, raw: string | boolean, from: string): string | number | boolean {
  switch (flag.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off|)$/i.test(raw)) return false;
      throw new UsageError(`${from}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'port': {
      const n = Number(raw);
      if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n > 65535) {
        throw new UsageError(`${from}: expected a port number 0..65535, got ${JSON.stringify(raw)}`);
      }
      return n;
    }
    case 'bytes': {
      const n = Number(raw);
      if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`${from}: expected a number of bytes, got ${JSON.stringify(raw)}`);
      if (flag.max !== undefined && n > flag.max) throw new UsageError(`${from}: at most ${flag.max}, got ${raw}`);
      return n;
    }
    case 'count': {
      const n = Number(raw);
      if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < 1 || n > 100_000) throw new UsageError(`${from}: expected a whole number ≥ 1, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new UsageError(`${from}: expected a value`);
      return raw;
  }
}

/** argv without `node erne.js`; env is process.env or a test's table */
export function parseCommandLine(argv: string[], env: Record<string, string | undefined>): ParsedCommandLine {
  try {
    return parse(argv, env);
  } catch (err) {
    if (err instanceof UsageError) return { kind: 'usage-error', message: err.message };
    // node:util parseArgs reports unknown flags and missing values with ERR_PARSE_ARGS_*
    const e = err as { code?: string; message?: string };
    if (e.code?.startsWith('ERR_PARSE_ARGS')) return { kind: 'usage-error', message: firstLine(e.message ?? String(err)) };
    throw err;
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}

function parse(argv: string[], env: Record<string, string | undefined>): ParsedCommandLine {
  const first = argv[0];
  if (first === undefined) throw new UsageError(`missing command; try 'erne --help'`);
  if (first === '--help' || first === '-h' || first === 'help') return { kind: 'help', text: topHelp() };
  if (first === '--version' || first === '-v') return { kind: 'version' };
  const { spec, group, used } = findCommand(argv);
  if (!spec) {
    if (group !== undefined) {
      const sub = argv[1];
      if (sub === undefined || sub === '--help' || sub === '-h') {
        if (sub === undefined) throw new UsageError(`${group} needs a subcommand; try 'erne ${group} --help'`);
        return { kind: 'help', text: groupHelp(group) };
      }
      throw new UsageError(`unknown command '${group} ${sub}'; try 'erne ${group} --help'`);
    }
    throw new UsageError(`unknown command '${first}'; try 'erne --help'`);
  }
  const rest = argv.slice(used);
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help', text: commandHelp(spec) };

  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const f of spec.flags) options[f.name] = { type: f.kind === 'boolean' ? 'boolean' : 'string', ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  const { values, positionals } = parseArgs({ args: rest, options, strict: true, allowPositionals: true });

  const wanted = spec.positionals ?? [];
  // stderr lines start with "erne: ", so the command is named without it
  const name = spec.path.join(' ');
  if (positionals.length < wanted.length) throw new UsageError(`${name}: missing ${wanted[positionals.length]}`);
  if (positionals.length > wanted.length) throw new UsageError(`${name}: unexpected argument '${positionals[wanted.length]}'`);

  const flags: FlagValues = {};
  for (const f of spec.flags) {
    const given = values[f.name];
    const fromEnv = f.env !== undefined ? env[f.env] : undefined;
    if (Array.isArray(given)) flags[f.name] = given.map((g) => convert(f, g, `--${f.name}`)).join(',');
    else if (given !== undefined) flags[f.name] = convert(f, given, `--${f.name}`);
    else if (fromEnv !== undefined && fromEnv !== '') flags[f.name] = convert(f, fromEnv, f.env!);
    else flags[f.name] = f.default;
  }
  return { kind: 'run', command: spec.path.join(' '), flags, positionals };
}

function flagLine(f: FlagSpec): string {
  const left = `  ${f.short ? `-${f.short}, ` : ''}--${f.name}${f.kind === 'boolean' ? '' : ` ${f.value ?? 'VALUE'}`}`;
  const extra = [f.multiple ? 'may repeat' : '', f.env ? `env ${f.env}` : '', f.default !== undefined ? `default ${f.default}` : ''].filter(Boolean).join(', ');
  return `${left.padEnd(28)} ${f.help}${extra ? ` (${extra})` : ''}`;
}

export function commandHelp(spec: CommandSpec): string {
  const pos = (spec.positionals ?? []).map((p) => ` ${p}`).join('');
  return [
    `usage: erne ${spec.path.join(' ')}${pos} [flags]`,
    '',
    spec.summary,
    '',
    'flags:',
    ...spec.flags.map(flagLine),
    `  --help${' '.repeat(22)} show this help`,
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const subs = COMMANDS.filter((c) => c.path[0] === group);
  const width = Math.max(14, ...subs.map((c) => c.path.join(' ').length + 1));
  return [`usage: erne ${group} <command> [flags]`, '', 'commands:', ...subs.map((c) => commandSummary(c, width)), '', `'erne ${group} <command> --help' for its flags`, ''].join('\n');
}

function commandSummary(c: CommandSpec, width = 14): string {
  return `  ${c.path.join(' ').padEnd(width)} ${c.summary}`;
}

export function topHelp(): string {
  return [
    'usage: erne <command> [flags]',
    '',
    'Erne: an S3-compatible object store.',
    '',
    'commands:',
    ...COMMANDS.map(commandSummary),
    '',
    "'erne <command> --help' for its flags; every setting flag has an ERNE_* environment twin (the flag wins).",
    "serve's root key: ERNE_ROOT_ACCESS_KEY and ERNE_ROOT_SECRET_KEY (both), or generated once and kept in DATA_DIR/root-credentials.json;",
    'the root key they replace stops working (erne keys list shows which key is the root).',
    '',
  ].join('\n');
}
