/**
 * The `erne machines …` commands as data for cli/args.ts: the API server with its scheduler,
 * and the client commands that talk to it (--endpoint, --token / ERNE_MACHINES_TOKEN).
 */
import type { CommandSpec, FlagSpec } from '../args.js';

const json: FlagSpec = { name: 'json', kind: 'boolean', help: 'print JSON for machines' };
const endpoint: FlagSpec = { name: 'endpoint', kind: 'string', env: 'ERNE_MACHINES_ENDPOINT', default: 'http://127.0.0.1:4280', value: 'URL', help: 'the Machines API (erne machines serve, or Fly’s)' };
const token: FlagSpec = { name: 'token', kind: 'string', env: 'ERNE_MACHINES_TOKEN', value: 'TOKEN', help: 'the API token (Authorization: Bearer)' };
const app: FlagSpec = { name: 'app', kind: 'string', env: 'ERNE_MACHINES_APP', default: 'erne', value: 'APP', help: 'the app whose machines these are' };
const client = [app, endpoint, token, json];

export const MACHINES_COMMANDS: CommandSpec[] = [
  {
    path: ['machines', 'serve'],
    summary: 'run the Machines API (Fly’s shape) and the scheduler that starts and keeps its machines',
    flags: [
      { name: 'data-dir', kind: 'string', env: 'ERNE_MACHINES_DATA_DIR', default: './erne-machines', value: 'DIR', help: 'the stored apps and machines, their volumes and logs' },
      { name: 'host', kind: 'string', env: 'ERNE_MACHINES_HOST', default: '127.0.0.1', value: 'ADDR', help: 'address the API listens on' },
      { name: 'port', kind: 'port', env: 'ERNE_MACHINES_PORT', default: 4280, value: 'N', help: 'TCP port of the API (0: any free port)' },
      token,
      { name: 'driver', kind: 'string', env: 'ERNE_MACHINES_DRIVER', default: 'process', value: 'process|microvm|fly', help: 'what runs the machines: child processes here, QEMU microVMs here, or another Machines API (Fly)' },
      { name: 'network', kind: 'string', env: 'ERNE_MACHINES_NETWORK', default: 'loopback', value: 'loopback|netns|auto', help: 'process driver: netns gives each region a network namespace (root with iproute2); auto does when it can, else loopback' },
      { name: 'latency', kind: 'string', env: 'ERNE_MACHINES_LATENCY', default: '0', value: 'MS', help: 'process driver in namespaces: one-way delay between regions' },
      { name: 'region', kind: 'string', env: 'ERNE_MACHINES_REGION', default: 'local', value: 'NAME', help: 'the region of a machine whose request names none' },
      { name: 'fly-endpoint', kind: 'string', env: 'FLY_API_HOSTNAME', default: 'https://api.machines.dev', value: 'URL', help: 'fly driver: the Machines API it drives' },
      { name: 'fly-token', kind: 'string', env: 'FLY_API_TOKEN', value: 'TOKEN', help: 'fly driver: its token' },
      { name: 'fly-app', kind: 'string', env: 'ERNE_FLY_APP', value: 'APP', help: 'fly driver: the app its machines are made in' },
      { name: 'fly-image', kind: 'string', env: 'ERNE_FLY_IMAGE', value: 'IMAGE', help: 'fly driver: the image Fly runs the commands in' },
    ],
  },
  { path: ['machines', 'list'], summary: "list an app's machines: id, region, state, version, pid", flags: [...client, { name: 'region', kind: 'string', value: 'NAME', help: 'only this region' }] },
  { path: ['machines', 'status'], summary: "one machine's state, config, checks and recent events", positionals: ['ID'], flags: client },
  {
    path: ['machines', 'scale'],
    summary: 'make COUNT machines of the app run in each region named (gateways of the Erne app by default)',
    flags: [
      ...client,
      { name: 'count', kind: 'count', value: 'N', help: 'machines per region' },
      { name: 'region', kind: 'string', value: 'R,R…', help: 'the regions to scale' },
      { name: 'cluster', kind: 'string', env: 'ERNE_CLUSTER', value: 'FILE', help: 'new gateways join this cluster; each takes a free port its region lists there' },
      { name: 'redis-url', kind: 'string', value: 'R=URL,…', help: "each region's Redis, for new gateways" },
      { name: 'metadata-root', kind: 'string', value: 'DIR', help: "new gateways of region R share DIR/R/meta (default: beside the cluster file)" },
    ],
  },
  { path: ['machines', 'start'], summary: 'start a stopped machine', positionals: ['ID'], flags: client },
  {
    path: ['machines', 'stop'],
    summary: 'stop a machine (the signal, then SIGKILL after the timeout)',
    positionals: ['ID'],
    flags: [...client, { name: 'signal', kind: 'string', value: 'SIG', help: 'default SIGTERM' }, { name: 'timeout', kind: 'string', value: 'DURATION', help: 'e.g. 10s' }],
  },
  { path: ['machines', 'restart'], summary: 'stop and start a machine again', positionals: ['ID'], flags: [...client, { name: 'signal', kind: 'string', value: 'SIG', help: 'default SIGTERM' }] },
  { path: ['machines', 'destroy'], summary: 'remove a machine and its volume', positionals: ['ID'], flags: [...client, { name: 'force', kind: 'boolean', help: 'also when it is running' }] },
  { path: ['machines', 'logs'], summary: "a machine's log", positionals: ['ID'], flags: [app, endpoint, token, { name: 'follow', kind: 'boolean', short: 'f', help: 'keep printing new lines until Ctrl-C' }, { name: 'json', kind: 'boolean', help: 'one JSON object per line: {"machine","line"}' }] },
];
