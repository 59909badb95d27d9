/**
 * Test helpers that start a real Erne gateway (in process, on a temp data dir, port 0) and
 * build real clients for it: @aws-sdk/client-s3 with its default checksum settings, and the
 * `aws` CLI. `useGateway` is the usual e2e fixture: one gateway, one root client and one bucket
 * per test file. Raw hand-signed requests live in ./raw.ts, child-process gateways in ./child.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/server.js';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Fixed root keys so child processes (CLI, aws) can be given them too. */
export const ROOT: Creds = {
  accessKeyId: 'ERNETESTROOT00000001',
  secretAccessKey: 'erne-test-root-secret-0000000000000000001',
};

export const REGION = 'us-east-1';

export interface TestGateway {
  gw: RunningGateway;
  dataDir: string;
  /** close the gateway and delete its data dir */
  stop(): Promise<void>;
}

export function tempDir(prefix = 'erne-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * The metadata the suites run on: LMDB under the data dir by default; with
 * ERNE_TEST_METADATA=fdb and FDB_CLUSTER_FILE, a FoundationDB cluster (a fresh key prefix per
 * call, cleared by `drop`). Pass the same value to several gateways to share one region store.
 */
export function testMetadata(): { metadata?: GatewayOptions['metadata']; drop(): Promise<void> } {
  if (process.env.ERNE_TEST_METADATA !== 'fdb') return { drop: async () => undefined };
  const clusterFile = process.env.FDB_CLUSTER_FILE;
  if (!clusterFile) throw new Error('ERNE_TEST_METADATA=fdb needs FDB_CLUSTER_FILE');
  const prefix = `erne-test-${process.pid}-${Date.now().toString(36)}-${++metaSeq}`;
  return {
    metadata: { backend: 'fdb', clusterFile, prefix },
    async drop() {
      const { clearFdbStore } = await import('../../metadata/fdb.js');
      await clearFdbStore({ clusterFile, prefix });
    },
  };
}
let metaSeq = 0;

export async function startTestGateway(opts: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? tempDir();
  // a store of its own unless the caller shares one
  const own = opts.metadata ? undefined : testMetadata();
  const gw = await startGateway({
    ...(own?.metadata ? { metadata: own.metadata } : {}),
    host: '127.0.0.1',
    port: 0,
    region: REGION,
    rootAccessKey: ROOT.accessKeyId,
    rootSecretKey: ROOT.secretAccessKey,
    log: () => {},
    ...opts,
    dataDir,
  });
  return {
    gw,
    dataDir,
    async stop() {
      await gw.close();
      await own?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let seq = 0;
/** A bucket name unique within this test run (S3 rules: lower case, digits, hyphens). */
export function uniqueBucket(tag = 'b'): string {
  seq += 1;
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${seq}`.toLowerCase();
}

/** Resolves every name (e.g. `bucket.localhost`) to 127.0.0.1, for virtual-host tests. */
const loopbackLookup: LookupFunction = (_host, options, cb) => {
  if ((options as { all?: boolean }).all) {
    (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  } else cb(null, '127.0.0.1', 4);
};

export interface ClientOptions {
  forcePathStyle?: boolean;
  /** endpoint override (default: the gateway url) */
  endpoint?: string;
  /** extra client settings (tests that need them say why) */
  config?: Partial<S3ClientConfig>;
}

/** @aws-sdk/client-s3 pointed at the gateway. Checksum settings are left at their defaults. */
export function s3Client(gw: { url: string }, creds: Creds = ROOT, opts: ClientOptions = {}): S3Client {
  const forcePathStyle = opts.forcePathStyle ?? true;
  return new S3Client({
    endpoint: opts.endpoint ?? gw.url,
    region: REGION,
    forcePathStyle,
    credentials: creds,
    maxAttempts: 1,
    // virtual-host names like b1.localhost do not resolve through glibc here; pin them to loopback
    // ERNE_E2E_NO_KEEPALIVE=1 is a diagnostic: a fresh connection per request, to tell a
    // broken keep-alive connection apart from a wrong response
    requestHandler: {
      httpAgent: new http.Agent({ keepAlive: !process.env.ERNE_E2E_NO_KEEPALIVE, ...(forcePathStyle ? {} : { lookup: loopbackLookup }) } as http.AgentOptions),
    },
    ...opts.config,
  });
}

export interface UseGatewayOptions extends Partial<GatewayOptions> {
  /** a bucket to create (as root) once the gateway is up: this name, or `true` for a fresh unique one */
  bucket?: string | true;
}

/** What `useGateway` gives a test file. Read the fields inside tests and hooks, not at load time. */
export interface GatewayFixture {
  /** the running gateway (url, port, root keys, janitor, …) */
  readonly gw: RunningGateway;
  /** its temp data dir */
  readonly dataDir: string;
  /** @aws-sdk/client-s3 signing as root, path style (see s3Client) */
  readonly s3: S3Client;
  /** the bucket asked for with `bucket` (its name is known at once; it exists once beforeAll has run) */
  readonly bucket: string;
}

/**
 * The usual e2e fixture, as vitest hooks of the calling file or describe block: beforeAll starts
 * a test gateway, makes a root S3 client and creates `bucket` if asked; afterAll destroys the
 * client and stops the gateway (deleting its data dir). Other options go to startTestGateway.
 * The caller's own beforeAll hooks, registered after this call, run after this one (vitest runs
 * beforeAll hooks in order and afterAll hooks in reverse), so they can seed data through `s3`.
 */
export function useGateway(opts: UseGatewayOptions = {}): GatewayFixture {
  const { bucket: wanted, ...gatewayOpts } = opts;
  const bucket = wanted === true ? uniqueBucket() : wanted;
  let running: TestGateway | undefined;
  let client: S3Client | undefined;
  beforeAll(async () => {
    running = await startTestGateway(gatewayOpts);
    client = s3Client(running.gw);
    if (bucket !== undefined) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    client?.destroy();
    await running?.stop();
  });
  const ready = <T>(value: T | undefined, field: string): T => {
    if (value === undefined) throw new Error(`useGateway: ${field} is set by its beforeAll hook; read it inside a test or hook`);
    return value;
  };
  return {
    get gw() {
      return ready(running, 'gw').gw;
    },
    get dataDir() {
      return ready(running, 'dataDir').dataDir;
    },
    get s3() {
      return ready(client, 's3');
    },
    get bucket() {
      if (bucket === undefined) throw new Error('useGateway: no bucket was asked for (pass { bucket })');
      return bucket;
    },
  };
}

/** Which aws CLI runs: Debian's v2 when installed, else whatever `aws` is on PATH. */
export const AWS_BIN = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `aws --endpoint-url <gw> ...args` with credentials from the environment only. */
export function awsCli(gw: { url: string }, args: string[], creds: Creds = ROOT, opts: { cwd?: string; configFile?: string } = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: opts.configFile ?? '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  };
  delete env.AWS_CA_BUNDLE;
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return new Promise((resolve) => {
    execFile(AWS_BIN, ['--endpoint-url', gw.url, ...args], { env, cwd: opts.cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Reads a whole (small) SDK body into a Buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const b = body as { transformToByteArray?: () => Promise<Uint8Array> } | AsyncIterable<Uint8Array>;
  if (b && typeof (b as { transformToByteArray?: unknown }).transformToByteArray === 'function') {
    return Buffer.from(await (b as { transformToByteArray: () => Promise<Uint8Array> }).transformToByteArray());
  }
  const parts: Buffer[] = [];
  for await (const c of b as AsyncIterable<Uint8Array>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Every key in the bucket with its ETag, paging through ListObjectsV2. */
export async function listEtags(s3: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const p = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const c of p.Contents ?? []) out.set(c.Key as string, c.ETag as string);
    token = p.IsTruncated ? p.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The S3 error fields an SDK exception carries. */
export async function sdkError(p: Promise<unknown>): Promise<{ name: string; status?: number; requestId?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
    return { name: err.name, status: err.$metadata?.httpStatusCode, requestId: err.$metadata?.requestId, message: err.message };
  }
  throw new Error('expected the request to fail, but it succeeded');
}
