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
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Not bundled: native add-ons (lmdb, and the msgpackr it shares with our code and bullmq, so
 * there is one copy of each) and foundationdb (optional, imported by a computed name). Only
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

/** Bundles `entry` (an ES module of dist/) to the single file `outFile`; returns how many modules went in. */
export async function bundleEntry(esbuild: Esbuild, entry: string, outFile: string): Promise<number> {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL_PACKAGES,
    // CommonJS packages inside an ES-module bundle call require() for Node's built-ins
    banner: { js: "import { createRequire as __erneRequire } from 'node:module'; const require = __erneRequire(import.meta.url);" },
    define: { 'import.meta.url': PINNED.url, __dirname: PINNED.dirname, __filename: PINNED.filename },
    logLevel: 'silent',
    metafile: true,
    plugins: [
      {
        name: 'erne-pin-location',
        setup(build: { onLoad(o: { filter: RegExp }, cb: (a: { path: string }) => { contents: string; loader: string }): void }) {
          build.onLoad({ filter: /\.(c|m)?js$/ }, (a) => ({ contents: pinLocation(a.path, readFileSync(a.path, 'utf8')), loader: 'js' }));
        },
      },
    ],
  });
  if (result.errors.length > 0) throw new Error(`esbuild: ${JSON.stringify(result.errors[0])}`);
  return Object.keys(result.metafile?.inputs ?? {}).length;
}
