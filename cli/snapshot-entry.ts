/**
 * The input of a microVM image's V8 startup snapshot (`node --build-snapshot`), never a command
 * of its own. The image bundles it, with everything it imports, into one CommonJS file
 * (machines/drivers/microvm/bundle.ts); the guest's node evaluates it once, at image build,
 * with every module `erne serve` loads, and saves the heap. A machine started with that
 * snapshot then begins with all of those modules evaluated and their start-up functions
 * compiled: under software emulation, compiling and evaluating them was most of the gateway's
 * cold start (machines/drivers/microvm/snapshot.ts).
 *
 * What cannot be in a snapshot is loaded when the snapshot runs, through
 * `globalThis.__erneRuntimeRequire`: native add-ons (lmdb) and Node's http/https (their parser
 * binding does not serialize). The bundle gives those packages stand-ins that load the real
 * one at its first use.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startupSnapshot } from 'node:v8';
import { parseCommandLine } from './args.js';
import { resolveAddress } from '../gateway/address.js';
import { createLogger, logAccess } from '../gateway/observe/log.js';
import { resolveOperation } from '../gateway/router.js';
import { renderXml } from '../gateway/xml.js';
import { runCli } from './main.js';

declare global {
  // eslint-disable-next-line no-var
  var __erneRuntimeRequire: NodeJS.Require | undefined;
}

const ERNE_JS = fileURLToPath(new URL('./erne.js', import.meta.url));

if (!startupSnapshot.isBuildingSnapshot()) {
  process.stderr.write('erne: snapshot-entry.js is the input of `node --build-snapshot`, not a command (run dist/cli/erne.js)\n');
  process.exit(2);
}

/** What `erne serve` imports when it starts (lazily, so other commands do not pay for it). */
const SERVE_MODULES = () => Promise.all([import('./serve.js'), import('./workers.js'), import('../gateway/server.js'), import('../metadata/open.js'), import('../metadata/lmdb.js'), import('../metadata/fdb.js')]);

/**
 * Runs pure code that every start and first request run, so that the snapshot holds it
 * compiled (V8 compiles a function at its first call): the command line, the logger, the
 * request address and operation, an XML answer. Nothing here touches a file or a socket.
 */
function warm(): void {
  parseCommandLine(['serve', '--host', '0.0.0.0', '--port', '9000', '--data-dir', '/nonexistent', '--region', 'local'], {});
  const logger = createLogger('info', { write: () => undefined });
  logAccess(logger, { requestId: '0', op: 'ListBuckets', status: 403, code: 'AccessDenied', bytesIn: 0, bytesOut: 0, ms: 0, remote: '127.0.0.1' });
  for (const url of ['/', '/bucket', '/bucket/key?uploads', '/bucket?list-type=2&prefix=a']) {
    const addr = resolveAddress(url, 'localhost', undefined);
    resolveOperation({ method: 'GET', bucket: addr.bucket, key: addr.key, query: new URLSearchParams(addr.rawQuery), headers: {} });
  }
  renderXml('Error', { Code: 'AccessDenied', Message: 'Access Denied', Resource: '/', RequestId: '0' }, false);
  renderXml('ListAllMyBucketsResult', { Owner: { ID: 'o', DisplayName: 'o' }, Buckets: { Bucket: [{ Name: 'b', CreationDate: new Date(0).toISOString() }] } });
}

SERVE_MODULES().then(
  () => {
    warm();
    startupSnapshot.setDeserializeMainFunction(() => {
      globalThis.__erneRuntimeRequire = createRequire(ERNE_JS);
      // `node --snapshot-blob B dist/cli/erne.js serve …` keeps the machine's argv: drop the script
      const argv = process.argv.slice(1);
      if (argv[0] === ERNE_JS) argv.shift();
      void runCli(argv);
    });
  },
  (err: unknown) => {
    process.stderr.write(`erne: the startup snapshot's modules did not load: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
