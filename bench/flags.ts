/**
 * `erne bench` as a row of the CLI's command table (cli/args.ts includes it), so its flags
 * get the same parsing, environment twins and --help as every other command.
 */
import type { CommandSpec } from '../cli/args.js';

export const BENCH_COMMAND: CommandSpec = {
  path: ['bench'],
  summary: 'measure an S3 endpoint (put, get, mixed, list, multipart, ycsb)',
  flags: [
    { name: 'workload', kind: 'string', default: 'put', value: 'NAME', help: 'put | get | mixed | list | multipart | ycsb' },
    { name: 'endpoint', kind: 'string', env: 'ERNE_ENDPOINT', default: 'http://127.0.0.1:9000', value: 'URL', help: 'S3 endpoint to load' },
    { name: 'access-key', kind: 'string', env: 'AWS_ACCESS_KEY_ID', value: 'ID', help: 'access key id to sign with' },
    { name: 'secret-key', kind: 'string', env: 'AWS_SECRET_ACCESS_KEY', value: 'SECRET', help: 'secret access key to sign with' },
    { name: 'region', kind: 'string', env: 'ERNE_REGION', default: 'local', value: 'NAME', help: 'region to sign for' },
    { name: 'bucket', kind: 'string', default: 'erne-bench', value: 'NAME', help: 'bucket to use (created if missing)' },
    { name: 'size', kind: 'string', default: '1KiB', value: 'SIZE', help: 'object size, e.g. 1KiB, 64MiB' },
    { name: 'part-size', kind: 'string', default: '8MiB', value: 'SIZE', help: 'multipart part size' },
    { name: 'concurrency', kind: 'string', default: '32', value: 'N', help: 'concurrent requests per load process' },
    { name: 'duration', kind: 'string', default: '10s', value: 'TIME', help: 'how long to load, e.g. 10s, 2m' },
    { name: 'warmup', kind: 'string', default: '1s', value: 'TIME', help: 'load first for this long without counting it' },
    { name: 'keys', kind: 'string', default: '0', value: 'N', help: "objects to prepare / list (0: the workload's default)" },
    { name: 'procs', kind: 'string', default: '1', value: 'N', help: 'load processes, each with its own connections' },
    { name: 'pid', kind: 'string', value: 'PID', help: 'server process to sample for RSS/CPU (default: the local listener of the endpoint port)' },
    { name: 'out', kind: 'string', default: 'bench/results', value: 'DIR', help: 'where the JSON and HTML report go' },
    { name: 'json', kind: 'boolean', help: 'print the result as JSON' },
  ],
};
