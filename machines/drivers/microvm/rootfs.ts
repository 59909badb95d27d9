/**
 * The read-only image the guest runs from: Node, the shared libraries it and the native
 * add-ons load, and the project (package.json, dist/, the runtime node_modules), each at its
 * host path so the machine's argv works unchanged in the guest. A squashfs on virtio-blk and
 * not a 9p share, because QEMU refuses to save a VM that has a 9p mount (suspend needs it).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { run } from './run.js';

export interface RootfsPlan {
  node: string;
  projectRoot: string;
  /** runtime package directories under the project's node_modules */
  packages: string[];
  /** shared libraries (host paths, as the dynamic loader asks for them) */
  libs: string[];
  /** the directories of the image bound into the guest at the same paths */
  binds: string[];
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** The package directories `dependencies` (and present optional ones) resolve to, transitively. */
export function runtimePackages(projectRoot: string): string[] {
  const found = new Set<string>();
  const visit = (pkgDir: string) => {
    const pkg = readJson(join(pkgDir, 'package.json'));
    const deps = { ...(pkg.optionalDependencies as object), ...(pkg.dependencies as object) };
    for (const name of Object.keys(deps)) {
      for (let dir = pkgDir; ; dir = dirname(dir)) {
        const candidate = join(dir, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) {
          if (!found.has(candidate)) {
            found.add(candidate);
            visit(candidate);
          }
          break;
        }
        if (dir === projectRoot || dirname(dir) === dir) break; // an absent optional dependency
      }
    }
  };
  visit(projectRoot);
  return [...found].sort();
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

async function sharedLibs(binaries: string[]): Promise<string[]> {
  const libs = new Set<string>();
  for (const bin of binaries) {
    const out = await run('ldd', [bin]).catch(() => '');
    for (const m of out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) libs.add(m[1]!);
  }
  return [...libs].sort();
}

function topDir(p: string): string {
  return `/${p.split(sep).filter(Boolean)[0]}`;
}

export async function planRootfs(projectRoot: string, node = process.execPath): Promise<RootfsPlan> {
  const packages = runtimePackages(projectRoot);
  const addons = packages.flatMap((p) => walk(p).filter((f) => f.endsWith('.node')));
  const libs = await sharedLibs([node, ...addons]);
  const under = (p: string, dir: string) => p === dir || p.startsWith(dir + sep);
  const candidates = [projectRoot, topDir(node), ...libs.map((l) => topDir(realpathSync(dirname(l))))];
  const binds = [...new Set(candidates)].filter((b, _, all) => !all.some((o) => o !== b && under(b, o))).sort();
  for (const b of binds) if (/\s/.test(b)) throw new Error(`a path with spaces cannot go into the microVM image: ${b}`);
  return { node, projectRoot, packages, libs, binds };
}

/** What the image is made of, for its cache key: contents of dist/, versions and sizes for the rest. */
export function rootfsKey(plan: RootfsPlan): unknown[] {
  const stamp = (p: string) => {
    const s = statSync(p);
    return [p, s.size, s.mtimeMs];
  };
  const dist = createHash('sha256');
  for (const f of walk(join(plan.projectRoot, 'dist')).sort()) dist.update(f).update(readFileSync(f));
  return [
    stamp(plan.node),
    plan.libs.map(stamp),
    plan.packages.map((p) => [p, readJson(join(p, 'package.json')).version]),
    readFileSync(join(plan.projectRoot, 'package.json'), 'utf8'),
    dist.digest('hex'),
    plan.binds,
  ];
}

/**
 * Copies the plan into `staging` at host paths and makes the squashfs `out` of it. `bundle`,
 * when given, writes the bundled CLI over the copied dist/cli/erne.js (see bundle.ts).
 */
export async function buildRootfs(plan: RootfsPlan, staging: string, out: string, bundle?: (erneJs: string) => Promise<void>): Promise<void> {
  const put = (src: string, at = src) => {
    mkdirSync(dirname(join(staging, at)), { recursive: true });
    cpSync(src, join(staging, at), { recursive: true, dereference: true });
  };
  put(plan.node);
  // a library goes in under its real directory (/lib64/x → /usr/lib64/x on a merged-/usr
  // Debian): the guest's /lib and /lib64 are links into the bound /usr, as on the host
  for (const lib of plan.libs) put(lib, join(realpathSync(dirname(lib)), lib.split(sep).at(-1)!));
  put(join(plan.projectRoot, 'package.json'));
  put(join(plan.projectRoot, 'dist'));
  for (const p of plan.packages) put(p);
  if (bundle) await bundle(join(staging, plan.projectRoot, 'dist', 'cli', 'erne.js'));
  // uncompressed: under TCG decompressing costs more than reading the larger image
  await run('mksquashfs', [staging, out, '-noappend', '-all-root', '-no-xattrs', '-noI', '-noD', '-noF', '-noX', '-quiet', '-no-progress']);
}
