/**
 * The set-up every client suite shares: check (at load time) that the client it drives is
 * installed (a missing one skips the suite outside CI and fails it in CI: test/helpers/requires.ts), and if it is, one gateway (useGateway), the tracing proxy in front of it and a
 * temp directory, all torn down after the file. A suite states only its name, the client it
 * needs and its own first steps (`setup`).
 */
import { rmSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import type { RunningGateway } from '../../../gateway/server.js';
import { tempDir, useGateway, type GatewayFixture } from '../../helpers/gateway.js';
import { program, type Need } from '../../helpers/requires.js';
import { tracer, type Tracer } from './support.js';

interface Client {
  /** the program run */
  bin: string;
  /** arguments that exit 0 when the client works (e.g. --version) */
  check: string[];
  /** the Debian package that provides it */
  apt: string;
}

/** The installed clients the suites drive (Debian packages, not whatever is first on PATH). */
export const CLIENTS = {
  // Debian's v2 (a pyenv v1 `aws` comes first on PATH)
  aws: { bin: '/usr/bin/aws', check: ['--version'], apt: 'awscli' },
  s3cmd: { bin: '/usr/bin/s3cmd', check: ['--version'], apt: 's3cmd' },
  rclone: { bin: '/usr/bin/rclone', check: ['version'], apt: 'rclone' },
  // a pyenv python3 earlier on PATH lacks boto3, so Debian's is named
  boto3: { bin: '/usr/bin/python3', check: ['-c', 'import boto3'], apt: 'python3-boto3' },
} satisfies Record<string, Client>;

export type ClientName = keyof typeof CLIENTS;

/** the client as a need (test/helpers/requires.ts): met when installed and it runs */
export function clientNeed(name: ClientName): Need {
  const c: Client = CLIENTS[name];
  return program(c.bin, c.check, c.apt);
}

export interface ClientSuiteOptions {
  /** names the trace output and the temp dir (erne-clients-<name>-) */
  name: string;
  /** the installed client the suite drives; without it nothing starts (see ClientSuite.need) */
  needs?: ClientName;
  /** the suite's own first steps, run once the gateway, proxy and temp dir are up */
  setup?: (suite: ClientSuite) => Promise<void>;
  /** timeout of the set-up hook (vitest's hookTimeout by default) */
  setupTimeout?: number;
}

/** What `useClientSuite` gives a test file. Read the fields other than `need`/`bin` inside tests and hooks. */
export interface ClientSuite {
  /** the client, for `describeNeeds(suite.need)(…)`: skipped (CI: failing) when it is missing */
  readonly need: Need;
  /** the program of `needs` (empty without it) */
  readonly bin: string;
  /** the running gateway, for requests that must bypass the client (anonymous fetches) */
  readonly gw: RunningGateway;
  /** @aws-sdk/client-s3 signing as root, straight to the gateway: for checks beside the client */
  readonly s3: S3Client;
  /** the tracing proxy; its url and port are where the client under test connects */
  readonly tr: Tracer;
  /** a temp directory for the suite's files, deleted afterwards */
  readonly dir: string;
}

/**
 * Vitest hooks for a client suite, at the top of its file. When `needs` names a client that
 * is not installed, it registers no hook at all, so no gateway, proxy or temp dir is made; the
 * file wraps its describe block in `describeNeeds(suite.need)`, which names what is missing.
 */
export function useClientSuite(opts: ClientSuiteOptions): ClientSuite {
  const client: Client | undefined = opts.needs ? CLIENTS[opts.needs] : undefined;
  const need: Need = opts.needs ? clientNeed(opts.needs) : {};
  const present = !need.missing;
  let up: { gateway: GatewayFixture; tr: Tracer; dir: string } | undefined;
  const running = () => {
    if (up) return up;
    throw new Error(present ? 'useClientSuite: the suite is set up by its beforeAll hook; read its fields inside a test or hook' : `useClientSuite: ${need.missing}`);
  };
  const suite: ClientSuite = {
    need,
    bin: client?.bin ?? '',
    get gw() {
      return running().gateway.gw;
    },
    get s3() {
      return running().gateway.s3;
    },
    get tr() {
      return running().tr;
    },
    get dir() {
      return running().dir;
    },
  };
  if (!present) return suite;
  const gateway = useGateway();
  let tr: Tracer | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    tr = await tracer(gateway.gw, opts.name);
    dir = tempDir(`erne-clients-${opts.name}-`);
    up = { gateway, tr, dir };
    await opts.setup?.(suite);
  }, opts.setupTimeout);
  afterAll(async () => {
    await tr?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return suite;
}
