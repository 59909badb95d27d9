import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileDurably } from './durable-file.js';
import { openBlobStore } from '../cache/file-blob-store.js';
import { RemoteCache, type RemoteBlobCache } from '../cache/remote-cache.js';
import { startJanitor, type Janitor } from '../cache/janitor.js';
import { createBucketConfigStore } from '../metadata/bucket-config.js';
import { HybridClock } from '../metadata/hlc.js';
import { createLifecycleJob, startLifecycle, type LifecycleJob, type LifecycleOptions } from '../metadata/lifecycle-runner.js';
import { getNode, regionSecret, registerNode } from '../metadata/nodes.js';
import { openMetadataStore } from '../metadata/open.js';
import { setVersionIdWriter } from '../metadata/version-id.js';
import { createMultipartLayer } from '../metadata/multipart.js';
import { createObjectLayer } from '../metadata/objects.js';
import type { Replication } from '../replication/service.js';
import type { Topology } from '../replication/topology.js';
import { createS3Handler } from './app.js';
import { createAdminHandler, isAdminRequest } from './admin/http.js';
import { ShadowFills } from './shadow/fill.js';
import { Migrations } from './shadow/migrate.js';
import { signingRegions } from './auth/regions.js';
import { ConnectionCap } from './connection-cap.js';
import { holdContinue, sendContinue } from './continue.js';
import { ensureRootKey, type KeyPair } from './credentials.js';
import { createInternalHandler, fetchRemoteBlob, isInternalRequest } from './internal.js';
import { createReplicationHandler } from './internal-replication.js';
import { BucketNamespace } from '../replication/bucket-namespace.js';
import { recordCluster } from '../metadata/cluster-record.js';
import { peersOf } from '../replication/topology.js';
import { createOpsHandler, isOpsRequest } from './observe/health.js';
import type { Logger, LogLevel } from './observe/log.js';
import { createObserver } from './observe/observer.js';
import { createReplicationMetrics } from './observe/replication-metrics.js';
import { installLimits, RequestLimiter, resolveLimits, serverOptions, type LimitOptions } from './limits.js';
import { openRegionBytes, type RegionBytes } from '../replication/region-bytes.js';
import { createRegionObjectHandler } from './internal-object.js';
import { clusterPlacement } from './cluster-placement.js';
import { createRepairHandler } from './internal-repair.js';
import { clusterUploadLister } from '../replication/cluster-uploads.js';
import type { RepairService } from '../replication/repair/service.js';
import type { RepairSettings } from '../replication/repair/start.js';
import { createRegionForwarder } from './forward/proxy.js';
import { forwardVerifier } from './forward/forward-auth.js';
import { bucketHome, isBucketHome } from '../replication/bucket-home.js';
import type { BucketRecord } from '../metadata/types.js';

export interface GatewayOptions {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  /** the cluster's other regions: requests signed for them are accepted too (besides us-east-1, auto and region) */
  clusterRegions?: readonly string[];
  domain?: string;
  nodeId?: string;
  rootAccessKey?: string;
  rootSecretKey?: string;
  inlineThreshold?: number;
  log?: (line: string) => void;
  /** the lifecycle job's interval and clock (tests); false: no timer (passes only on runOnce) */
  lifecycle?: LifecycleOptions | false;
  /**
   * The region's metadata store. Default: LMDB under <dataDir>/meta. Several gateways of a
   * region share one: the same LMDB directory on one host, or one FDB cluster.
   */
  metadata?: { backend: 'lmdb'; dir?: string } | { backend: 'fdb'; clusterFile?: string; apiVersion?: number; prefix?: string };
  /** this node's bytes; default <dataDir>/volume */
  volumeDir?: string;
  /** where the region's other gateways reach this one; default this server's own URL */
  internalUrl?: string;
  /** budget of the cache of other nodes' blobs; default 4 GiB */
  remoteCacheBytes?: number;
  /** where that cache lives; default <volume>/remote-cache (one per process: see cli/workers.ts) */
  remoteCacheDir?: string;
  /** in a cluster: budget of the cache of bytes other regions hold; default 4 GiB */
  regionCacheBytes?: number;
  /** where that cache lives; default <volume>/region-cache (one per process, like remoteCacheDir) */
  regionCacheDir?: string;
  /** run the janitor (default true); exactly one process per volume may */
  janitor?: boolean;
  /** told apart in version ids from other processes of the region; default the node id */
  writerId?: string;
  /** adds x-erne-served-by: <node>/<pid> to every response (tests, debugging) */
  servedByHeader?: boolean;
  /** JSON access log and messages go here (tests pass one writing to a stream); default: pino to stdout at logLevel */
  logger?: Logger;
  /** without a logger: 'silent' unless given (the CLI passes --log-level) */
  logLevel?: LogLevel;
  /** serve HTTPS with this certificate chain and key (PEM file paths) */
  tls?: { certFile: string; keyFile: string };
  /** also serve /.erne/health, /.erne/ready, /.erne/metrics (only those) on this port; 0: any free port */
  opsPort?: number;
  /** header size and deadline, slow bodies, concurrent requests (gateway/limits.ts) */
  limits?: LimitOptions;
  /** on close, in-flight requests get this long to finish before their connections are cut; default 10 s */
  shutdownGraceMs?: number;
  /** false: refuse Signature Version 2 (v4 only); default true */
  sigv2?: boolean;
  /**
   * This region is one of a cluster (replication/topology.ts): every change is recorded in the
   * outbox, moved through the region's Redis and applied by the other regions. `relay` and
   * `backoff` tune delivery (tests).
   */
  cluster?: {
    topology: Topology;
    redisUrl: string;
    relay?: { intervalMs?: number; resendAfterMs?: number };
    backoff?: { baseMs: number; capMs: number };
    /** anti-entropy passes and tombstone collection (replication/repair/) */
    repair?: RepairSettings;
  };
  /** with `cluster`: run the relay and delivery workers in this process (default true); one process per host is enough */
  replicationWorker?: boolean;
}

export interface RunningGateway {
  url: string;
  port: number;
  root: KeyPair;
  /** this node's background upkeep (tests run a pass with janitor.runOnce()) */
  janitor: Janitor;
  /** applies the buckets' lifecycle rules (tests run a pass with lifecycle.runOnce()) */
  lifecycle: LifecycleJob;
  nodeId: string;
  /** the cache of other nodes' blobs */
  remote: RemoteBlobCache;
  /** in a cluster: bytes other regions hold, through this region's cache of them */
  regionBytes?: RegionBytes;
  /** the separate operator port (opts.opsPort), when asked for */
  opsUrl?: string;
  /** in a cluster: anti-entropy repair and tombstone collection (tests run one with repair.run()) */
  repair?: RepairService;
  close(): Promise<void>;
}

/** This node's id: given, or made once and kept beside its volume. */
export async function nodeIdFor(dataDir: string, given?: string): Promise<string> {
  if (given) return given;
  const file = join(dataDir, 'node-id');
  const kept = await readFile(file, 'utf8').then((s) => s.trim(), () => '');
  // empty: an id written without fsync by an older version, lost to a power cut; make a new one
  if (kept) return kept;
  const id = 'n' + randomBytes(6).toString('hex');
  await writeFileDurably(file, id + '\n');
  return id;
}

/** One region, one process: LMDB metadata under <data>/meta, bytes under <data>/volume. */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const observer = createObserver({ logger: opts.logger, logLevel: opts.logLevel });
  // background messages (janitor, lifecycle, internal errors) join the JSON log unless a line sink is given
  const log = opts.log ?? ((line: string) => observer.logger.warn(line));
  const tls = opts.tls ? { cert: await readFile(opts.tls.certFile), key: await readFile(opts.tls.keyFile) } : undefined;
  await mkdir(opts.dataDir, { recursive: true });
  const nodeId = await nodeIdFor(opts.dataDir, opts.nodeId);
  const kv = await openMetadataStore(
    opts.metadata?.backend === 'fdb' ? opts.metadata : { backend: 'lmdb', dir: opts.metadata?.dir ?? join(opts.dataDir, 'meta') },
  );
  setVersionIdWriter(opts.writerId ?? nodeId);
  // one clock for every writer of this process (the object layer and the bucket-config store),
  // told of every remote time replication applies; in a cluster, one change sink for both
  const clock = new HybridClock();
  // loaded only in a cluster: the queue (bullmq, ioredis) is the largest part of the gateway's
  // imports, and a single region's start (a microVM's cold boot under TCG) should not pay for it
  const replication: Replication | undefined =
    opts.cluster &&
    (await import('../replication/service.js')).startReplication({
      kv,
      topology: opts.cluster.topology,
      redisUrl: opts.cluster.redisUrl,
      log,
      deliver: opts.replicationWorker !== false,
      relay: opts.cluster.relay,
      backoff: opts.cluster.backoff,
      metrics: createReplicationMetrics(observer.metrics.registry),
    });
  const writer = { region: opts.region, clock, ...(replication ? { changes: replication.sink } : {}) };
  // what `erne keys` / `erne buckets` need to replicate what they write here (metadata/cluster-record.ts)
  await recordCluster(kv, opts.cluster && { self: opts.region, peers: peersOf(opts.cluster.topology).map((r) => r.name) });
  const layer = createObjectLayer(replication?.store ?? kv, writer);
  const multipart = createMultipartLayer(kv, { region: opts.region });
  const volumeDir = opts.volumeDir ?? join(opts.dataDir, 'volume');
  const blobs = await openBlobStore(volumeDir, { nodeId, inlineThreshold: opts.inlineThreshold });
  const root = await ensureRootKey(layer, opts.dataDir, { accessKeyId: opts.rootAccessKey, secretAccessKey: opts.rootSecretKey }, log);
  const janitor: Janitor =
    opts.janitor === false ? { stop: async () => undefined, runOnce: async () => undefined } : startJanitor(layer, blobs, { log, multipart });
  // in a cluster: versions replicated here whose bytes another region holds are pulled from there
  const regionBytes =
    opts.cluster && (await openRegionBytes(opts.cluster.topology, opts.regionCacheDir ?? join(volumeDir, 'region-cache'), { budgetBytes: opts.regionCacheBytes, log }));
  // many gateways per region: bytes another node holds are fetched from it and cached here
  const secret = await regionSecret(kv);
  const remote = await RemoteCache.blobs(
    opts.remoteCacheDir ?? join(volumeDir, 'remote-cache'),
    async (node, blobId, range) => {
      const rec = await getNode(kv, node);
      if (!rec) throw new Error(`node ${node} is not registered in this region`);
      return fetchRemoteBlob(rec.internalUrl, secret, blobId, range);
    },
    { budgetBytes: opts.remoteCacheBytes },
  );
  const configs = createBucketConfigStore(replication?.store ?? kv, writer);
  // in a cluster: CreateBucket and DeleteBucket are decided by the control region
  const namespace = opts.cluster && new BucketNamespace({ topology: opts.cluster.topology, kv: replication?.store ?? kv, layer, configs, observe: (hlc) => void clock.update(hlc), log });
  // in a cluster: writes to a bucket with a regions list push their bytes there first
  const placed = opts.cluster && clusterPlacement({ topology: opts.cluster.topology, kv, layer, blobs, observe: (hlc) => void clock.update(hlc), log });
  // in a cluster: anti-entropy passes (scheduled in the process that delivers) and on demand
  const repair =
    opts.cluster &&
    (await import('../replication/repair/start.js')).startRepair({ kv, topology: opts.cluster.topology, observe: (hlc) => void clock.update(hlc), log, schedule: opts.replicationWorker !== false, settings: opts.cluster.repair });
  const regionObject = opts.cluster && createRegionObjectHandler({ topology: opts.cluster.topology, svc: { layer, blobs, multipart, remote }, log });
  const internal = createInternalHandler({
    blobs,
    secret,
    log,
    regionObject,
    placement: placed ? placed.handler : undefined,
    replication:
      opts.cluster &&
      createReplicationHandler({
        kv,
        topology: opts.cluster.topology,
        observe: (hlc) => void clock.update(hlc),
        log,
        buckets: namespace,
        onApplied: (from, n) => replication?.monitor.applied(from, n),
        uploads: (input) => multipart.listUploads(input),
        repair: repair && createRepairHandler(opts.cluster.topology.secret, { kv, self: opts.region, marks: () => repair.service.marks(), run: (b) => repair.service.run(b) }, log),
      }),
  });
  const servedBy = opts.servedByHeader ? `${nodeId}/${process.pid}` : undefined;
  const limits = resolveLimits(opts.limits);
  const limiter = new RequestLimiter(limits);

  // in a cluster: objects expire in the bucket's home region only (their expiry replicates)
  const topology = opts.cluster?.topology;
  const expiresHere = topology && ((b: BucketRecord) => isBucketHome(topology, b));
  const lifecycleOpts = { log, ...(expiresHere ? { expiresHere } : {}) };
  const lifecycle =
    opts.lifecycle === false ? createLifecycleJob({ layer, configs, multipart }, lifecycleOpts) : startLifecycle({ layer, configs, multipart }, { ...lifecycleOpts, ...opts.lifecycle });
  const others = opts.clusterRegions ?? opts.cluster?.topology.regions.map((r) => r.name);
  const signing = signingRegions(opts.region, others);
  const clusterRegions = [opts.region, ...(others ?? []).filter((r) => r !== opts.region)];
  // in a cluster: requests for another region's multipart upload, for a bucket homed in another
  // region, or asking for consistency of a key another region leads are served there
  const forward = opts.cluster && createRegionForwarder(opts.cluster.topology, { log });
  const homeOf = topology && ((b: BucketRecord) => bucketHome(topology, b));
  const forwardedBy = topology && forwardVerifier(topology.secret);
  // shadow buckets: read-through copies from their sources, and migrations run here
  const fills = new ShadowFills({ layer, blobs });
  const migrations = new Migrations({ layer, configs, fills, region: opts.region, log });
  const shadow = { fills, migrations, log };
  // in a cluster: ListMultipartUploads asks every region for its uploads (replication/cluster-uploads.ts)
  const clusterUploads = topology && clusterUploadLister(topology, (input) => multipart.listUploads(input));
  const svc = { shadow, layer, multipart, blobs, region: opts.region, regions: clusterRegions, signingRegions: signing, configs, remote, regionBytes, namespace, forward, control: topology?.control, homeOf, forwardedBy, sigv2: opts.sigv2 !== false,
    ...(clusterUploads ? { clusterUploads } : {}),
    ...(placed ? { placement: placed.placement, replicationStatus: placed.replicationStatus, upkeep: () => janitor.runOnce() } : {}) };
  const s3 = createS3Handler(svc, { domain: opts.domain, log, observer });
  const admin = createAdminHandler(svc, log);
  const ops = createOpsHandler({
    registry: observer.metrics.registry,
    domain: opts.domain,
    ready: { metadata: () => layer.getAccessKey(root.accessKeyId), volumeDir },
    ...(replication ? { replication: () => replication.monitor.status(), beforeMetrics: () => replication.monitor.status() } : {}),
  });
  // node's own server, no framework: loading one (@hono/node-server) loads node:http2 and
  // Node's fetch implementation (undici), ~0.5 s of a microVM's cold start under TCG
  const listener: http.RequestListener = (req, res) => {
    if (servedBy) res.setHeader('x-erne-served-by', servedBy);
    // probes answer even when the limiter sheds S3 load; both live under /.erne/, so the
    // gateway-to-gateway route is told apart first
    const internalReq = isInternalRequest(req);
    if (!internalReq && isOpsRequest(req, opts.domain)) {
      sendContinue(req);
      return void ops(req, res);
    }
    if (!limiter.admit(req, res)) return;
    // gateway-to-gateway requests are answered before S3 sees them
    if (internalReq) {
      sendContinue(req);
      void internal(req, res);
    } else if (isAdminRequest(req, opts.domain)) {
      sendContinue(req);
      void admin(req, res);
    } else void s3(req, res);
  };
  const options = serverOptions(limits);
  // HTTPS when a certificate is given; HTTP/1.1 keep-alive either way
  const server: Server = tls ? https.createServer({ ...options, ...tls }, listener) : http.createServer(options, listener);
  // Expect: 100-continue is answered once the body is read, not on arrival (continue.ts)
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    holdContinue(req, res);
    listener(req, res);
  });
  // uploads of several GiB may take long: no overall request deadline, but headers must come
  server.requestTimeout = 0;
  server.headersTimeout = limits.headersTimeoutMs;
  installLimits(server);
  const cap = new ConnectionCap(limits.maxConnectionsPerClient);
  cap.attach(server);
  observer.metrics.registry.counter('erne_connections_refused_total', 'connections closed at once: their client address held --max-connections-per-client already', [], () => cap.refused);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  // a wildcard listen address is not an address to call: peers on this host use loopback
  const callable = opts.host === '0.0.0.0' || opts.host === '::' ? `${tls ? 'https' : 'http'}://127.0.0.1:${port}` : url;
  const opsServer = opts.opsPort === undefined ? undefined : http.createServer((req, res) => (isOpsRequest(req) ? void ops(req, res) : res.writeHead(404).end()));
  if (opsServer) await new Promise<void>((resolve, reject) => opsServer.once('error', reject).listen(opts.opsPort, opts.host, () => resolve()));
  const opsUrl = opsServer ? `http://${host}:${(opsServer.address() as AddressInfo).port}` : undefined;
  await registerNode(kv, nodeId, opts.internalUrl ?? callable);
  replication?.start();
  await migrations.resumeAll().catch((err: unknown) => log(`shadow: resuming migrations failed: ${(err as Error).message}`));
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    root,
    janitor,
    lifecycle,
    nodeId,
    remote,
    regionBytes,
    opsUrl,
    ...(repair ? { repair: repair.service } : {}),
    close() {
      closing ??= (async () => {
        // stop accepting; in-flight requests finish (bounded), keep-alive connections close as they go idle
        await new Promise<void>((resolve) => {
          const idle = setInterval(() => server.closeIdleConnections(), 100);
          const cut = setTimeout(() => server.closeAllConnections(), opts.shutdownGraceMs ?? 10_000);
          server.close(() => {
            clearInterval(idle);
            clearTimeout(cut);
            resolve();
          });
          server.closeIdleConnections();
        });
        await migrations.close();
        // uploads cut off above remove their temp files before the process may exit
        await blobs.idle();
        await lifecycle.stop();
        await janitor.stop();
        namespace?.close();
        placed?.close();
        clusterUploads?.close();
        await repair?.close();
        await replication?.close();
        if (opsServer) await new Promise<void>((resolve) => opsServer.close(() => resolve()).closeAllConnections());
        await layer.close();
      })();
      return closing;
    },
  };
}
