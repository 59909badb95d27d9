import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { openBlobStore } from '../cache/file-blob-store.js';
import { startJanitor, type Janitor } from '../cache/janitor.js';
import { createBucketConfigStore } from '../metadata/bucket-config.js';
import { openLmdb } from '../metadata/lmdb.js';
import { createMultipartLayer } from '../metadata/multipart.js';
import { createObjectLayer } from '../metadata/objects.js';
import { createApp } from './app.js';
import { ensureRootKey, type KeyPair } from './credentials.js';

export interface GatewayOptions {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  domain?: string;
  nodeId?: string;
  rootAccessKey?: string;
  rootSecretKey?: string;
  inlineThreshold?: number;
  log?: (line: string) => void;
}

export interface RunningGateway {
  url: string;
  port: number;
  root: KeyPair;
  /** this node's background upkeep (tests run a pass with janitor.runOnce()) */
  janitor: Janitor;
  close(): Promise<void>;
}

/** This node's id: given, or made once and kept beside its volume. */
async function nodeIdFor(dataDir: string, given?: string): Promise<string> {
  if (given) return given;
  const file = join(dataDir, 'node-id');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const id = 'n' + randomBytes(6).toString('hex');
    await writeFile(file, id + '\n');
    return id;
  }
}

/** One region, one process: LMDB metadata under <data>/meta, bytes under <data>/volume. */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const log = opts.log ?? (() => undefined);
  await mkdir(opts.dataDir, { recursive: true });
  const nodeId = await nodeIdFor(opts.dataDir, opts.nodeId);
  const kv = await openLmdb(join(opts.dataDir, 'meta'));
  const layer = createObjectLayer(kv, { region: opts.region });
  const multipart = createMultipartLayer(kv);
  const blobs = await openBlobStore(join(opts.dataDir, 'volume'), { nodeId, inlineThreshold: opts.inlineThreshold });
  const root = await ensureRootKey(layer, opts.dataDir, { accessKeyId: opts.rootAccessKey, secretAccessKey: opts.rootSecretKey });
  const janitor = startJanitor(layer, blobs, { log, multipart });

  const configs = createBucketConfigStore(kv);
  const app = createApp({ layer, multipart, blobs, region: opts.region, configs }, { domain: opts.domain, log });
  // keep the platform's Response: S3 responses are written to the Node response directly and
  // the adaptor's own Response class would ignore the already-sent marker
  const server = createAdaptorServer({ fetch: app.fetch, hostname: opts.host, overrideGlobalObjects: false }) as Server;
  // uploads of several GiB may take long: no overall request deadline, but headers must come
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    root,
    janitor,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await janitor.stop();
        await layer.close();
      })();
      return closing;
    },
  };
}
