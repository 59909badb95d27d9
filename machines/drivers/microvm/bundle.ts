/**
 * The CLI as one file for the guest. Under TCG, Node's ES-module loader resolving, reading and
 * compiling each of the ~330 modules `erne serve` loads is most of the gateway's start; one
 * pre-built file spares that. Built with esbuild (a devDependency) from the tsc output at
 * image build time and put in the image over `dist/cli/erne.js`, so a machine's argv stays the
 * same and `npm run build` stays the project's build. Without esbuild the image ships the
 * unbundled dist/ as before.
 *
 * Same code, same behaviour: every module keeps its own `import.meta.url`, `__dirname` and
 * `__filename` (its original path, which the image also holds), and packages
 * with native parts or run-time resolution stay external, loaded from node_modules as before.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Not bundled: native add-ons (lmdb, and the msgpackr it shares with our code and bullmq, so
 * there is one copy of each) and foundationdb (optional, required by a computed name). Only
 * these: an external import is hoisted to the bundle's top, so it loads at every start even
 * when only a lazily loaded module (replication's bullmq, say) asks for it.
 */
export const EXTERNAL_PACKAGES = ['lmdb', 'msgpackr', 'msgpackr-extract', 'foundationdb'];

/** The part of esbuild's API used here (esbuild is an optional devDependency, loaded at run time). */
interface Esbuild {
  version: string;
  build(options: Record<string, unknown>): Promise<{ errors: unknown[]; metafile?: { inputs: Record<string, unknown> } }>;
}

/** esbuild from the project's node_modules (or ERNE_MICROVM_ESBUILD, a path to its package), or undefined. */
export async function loadEsbuild(projectRoot: string, env = process.env): Promise<Esbuild | undefined> {
  try {
    const entry = env.ERNE_MICROVM_ESBUILD
      ? createRequire(join(env.ERNE_MICROVM_ESBUILD, 'package.json')).resolve('esbuild')
      : createRequire(join(projectRoot, 'package.json')).resolve('esbuild');
    const mod = (await import(pathToFileURL(entry).href)) as Esbuild & { default?: Esbuild };
    return typeof mod.build === 'function' ? mod : mod.default;
  } catch {
    return undefined;
  }
}

/**
 * Source text with the module's own location declared at its top: the build defines
 * `import.meta.url`, `__dirname` and `__filename` (where not bound by the module itself) as
 * these names, so each module sees its original path, as when loaded alone.
 */
export function pinLocation(path: string, text: string): string {
  const decl: string[] = [];
  if (text.includes('import.meta')) decl.push(`${PINNED.url} = ${JSON.stringify(pathToFileURL(path).href)}`);
  if (/\b__dirname\b/.test(text)) decl.push(`${PINNED.dirname} = ${JSON.stringify(dirname(path))}`);
  if (/\b__filename\b/.test(text)) decl.push(`${PINNED.filename} = ${JSON.stringify(path)}`);
  if (decl.length === 0) return text;
  const shebang = text.startsWith('#!') ? text.slice(0, text.indexOf('\n') + 1) : '';
  return `${shebang}var ${decl.join(', ')};\n${text.slice(shebang.length)}`;
}

const PINNED = { url: '__erne_pinned_url', dirname: '__erne_pinned_dirname', filename: '__erne_pinned_filename' };

interface PluginBuild {
  onResolve(o: { filter: RegExp }, cb: (a: { path: string; kind: string }) => { path: string; namespace: string } | undefined): void;
  onLoad(o: { filter: RegExp; namespace?: string }, cb: (a: { path: string }) => { contents: string; loader: string }): void;
}

/** Every bundled module keeps its own location (pinLocation). */
const pinPlugin = {
  name: 'erne-pin-location',
  setup(build: PluginBuild) {
    build.onLoad({ filter: /\.(c|m)?js$/ }, (a) => ({ contents: pinLocation(a.path, readFileSync(a.path, 'utf8')), loader: 'js' }));
  },
};

const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  define: { 'import.meta.url': PINNED.url, __dirname: PINNED.dirname, __filename: PINNED.filename },
  logLevel: 'silent',
  metafile: true,
  // paths as the image holds them (under the project), where node_modules is a link elsewhere
  preserveSymlinks: true,
};

async function build(esbuild: Esbuild, options: Record<string, unknown>): Promise<number> {
  const result = await esbuild.build({ ...COMMON, ...options });
  if (result.errors.length > 0) throw new Error(`esbuild: ${JSON.stringify(result.errors[0])}`);
  return Object.keys(result.metafile?.inputs ?? {}).length;
}

/** Bundles `entry` (an ES module of dist/) to the single file `outFile`; returns how many modules went in. */
export async function bundleEntry(esbuild: Esbuild, entry: string, outFile: string): Promise<number> {
  return build(esbuild, {
    entryPoints: [entry],
    outfile: outFile,
    format: 'esm',
    external: EXTERNAL_PACKAGES,
    // CommonJS packages inside an ES-module bundle call require() for Node's built-ins
    banner: { js: "import { createRequire as __erneRequire } from 'node:module'; const require = __erneRequire(import.meta.url);" },
    plugins: [pinPlugin],
  });
}

/**
 * Loaded only when a startup snapshot runs, never while it is built (see cli/snapshot-entry.ts):
 * the native add-on; Node's http and https, whose parser binding a snapshot cannot hold; and
 * cluster, which decides when it loads whether this process is a worker of `serve --workers`
 * (the builder never is). worker_threads loads while building (pino reads isMainThread when it
 * loads; true in the builder as in the gateway, which never runs in a worker thread).
 * msgpackr goes into the snapshot itself (pure JavaScript; the guest disables its native
 * extractor); foundationdb is required by a computed name when it is chosen.
 */
export const SNAPSHOT_LAZY = ['lmdb', 'http', 'https', 'cluster'].flatMap((m) => (m === 'lmdb' ? [m] : [m, `node:${m}`]));
const SNAPSHOT_EXTERNAL = ['msgpackr-extract', 'foundationdb'];

/**
 * A CommonJS module standing in for `spec`: the real module's exports, as getters that load it
 * at their first use through the require the snapshot's main function sets. Its export names
 * are read from the same module here, on the same node.
 */
export function lazyStandIn(spec: string, names: string[], target = spec): string {
  const load = `let real;\nconst load = () => {\n  if (!globalThis.__erneRuntimeRequire) throw new Error(${JSON.stringify(`${spec} was used while the startup snapshot was built (it loads only when the snapshot runs)`)});\n  return (real ??= globalThis.__erneRuntimeRequire(${JSON.stringify(target)}));\n};\n`;
  return load + names.map((n) => `Object.defineProperty(exports, ${JSON.stringify(n)}, { enumerable: true, get: () => load()[${JSON.stringify(n)}] });`).join('\n') + '\n';
}

/** Node resolves a package to its real path; the image holds it under the project's node_modules. */
function underProject(projectRoot: string): (path: string) => string {
  const nm = join(projectRoot, 'node_modules');
  const real = realpathSync(nm);
  return (p) => (p.startsWith(real + sep) ? join(nm, p.slice(real.length + 1)) : p);
}

/**
 * lmdb and the packages it loads as one CommonJS file, its native add-on required by the path
 * found here (node-gyp-build looks for it in several directories at every start otherwise).
 * Loaded when a snapshot runs, one file instead of a dozen resolved through package exports.
 */
export async function bundleLmdb(esbuild: Esbuild, projectRoot: string, outFile: string): Promise<string> {
  const req = createRequire(join(projectRoot, 'dist', 'cli', 'erne.js'));
  const inProject = underProject(projectRoot);
  const entry = inProject(req.resolve('lmdb'));
  const addon = inProject((createRequire(entry)('node-gyp-build-optional-packages') as { path(dir: string): string }).path(dirname(dirname(entry))));
  await build(esbuild, {
    entryPoints: [entry],
    outfile: outFile,
    format: 'cjs',
    external: ['msgpackr-extract', '*.node'],
    plugins: [
      {
        name: 'erne-addon-path',
        setup(b: PluginBuild) {
          b.onResolve({ filter: /^node-gyp-build-optional-packages$/ }, (a) => ({ path: a.path, namespace: 'erne-addon' }));
          b.onLoad({ filter: /.*/, namespace: 'erne-addon' }, () => ({
            contents: `const addon = ${JSON.stringify(addon)};\nmodule.exports = () => require(addon);\nmodule.exports.path = module.exports.resolve = () => addon;\n`,
            loader: 'js',
          }));
        },
      },
      pinPlugin,
    ],
  });
  return outFile;
}

/**
 * Bundles the snapshot entry (dist/cli/snapshot-entry.js) to one CommonJS file for
 * `node --build-snapshot`, which runs a single script with only Node's built-ins to require.
 * `projectRoot` is where the lazily loaded packages resolve from (as dist/cli/erne.js would);
 * `runtimeTargets` names what a lazily loaded package is required as when the snapshot runs
 * (lmdb: the bundleLmdb file).
 */
export async function bundleSnapshotEntry(esbuild: Esbuild, entry: string, outFile: string, projectRoot: string, runtimeTargets: Record<string, string> = {}): Promise<number> {
  const req = createRequire(join(projectRoot, 'dist', 'cli', 'erne.js'));
  const escaped = SNAPSHOT_LAZY.map((m) => m.replace(/[.*+?^${}()|[\]\\:]/g, '\\$&'));
  return build(esbuild, {
    entryPoints: [entry],
    outfile: outFile,
    format: 'cjs',
    external: SNAPSHOT_EXTERNAL,
    plugins: [
      {
        name: 'erne-lazy',
        setup(b: PluginBuild) {
          b.onResolve({ filter: new RegExp(`^(${escaped.join('|')})$`) }, (a) => ({ path: a.path, namespace: 'erne-lazy' }));
          b.onLoad({ filter: /.*/, namespace: 'erne-lazy' }, (a) => ({ contents: lazyStandIn(a.path, Object.keys(req(a.path) as object), runtimeTargets[a.path]), loader: 'js' }));
        },
      },
      {
        // a snapshot has no loader for import(): `await import('node:fs/promises')` becomes a require
        name: 'erne-builtin-import',
        setup(b: PluginBuild) {
          b.onResolve({ filter: /.*/ }, (a) => (a.kind === 'dynamic-import' && isBuiltin(a.path) ? { path: a.path, namespace: 'erne-builtin' } : undefined));
          b.onLoad({ filter: /.*/, namespace: 'erne-builtin' }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});\n`, loader: 'js' }));
        },
      },
      pinPlugin,
    ],
  });
}
