/**
 * The microvm driver's pure parts, without booting: the guest settings script (argv and env
 * must reach the program byte for byte through sh), the initramfs archive, the QEMU command
 * line, which packages go into the image, the bundled CLI keeping each module's location, and
 * the startup snapshot's input (built and run here on the host, as the guest does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { bundleEntry, bundleLmdb, bundleSnapshotEntry, loadEsbuild } from '../../machines/drivers/microvm/bundle.js';
import { GUEST_BLOB, SNAPSHOT_V8_FLAGS, withSnapshot } from '../../machines/drivers/microvm/snapshot.js';
import { ERNE_JS, startChildGateway } from '../helpers/child.js';
import { s3Client } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';
import { cpioArchive } from '../../machines/drivers/microvm/cpio.js';
import { PROJECT_ROOT } from '../../machines/drivers/microvm/image.js';
import { GUEST_MODULES, INIT_SCRIPT, machineScript } from '../../machines/drivers/microvm/init-script.js';
import { machineArchive, withoutSignature } from '../../machines/drivers/microvm/initramfs.js';
import { kernelCommandLine, qemuArgs, type QemuPlan } from '../../machines/drivers/microvm/qemu-args.js';
import { runtimePackages } from '../../machines/drivers/microvm/rootfs.js';
import { tempDir } from '../helpers/gateway.js';
import { itNeeds, need, program } from '../helpers/requires.js';

const busybox = program('/bin/busybox', ['true'], 'busybox-static');

describe('guest settings script', () => {
  itNeeds(busybox)('hands argv and env to the program unchanged, whatever they contain', () => {
    const dir = tempDir('erne-mvparts-');
    try {
      const argv = ['/usr/bin/node', "it's", 'a b', '$HOME', '`x`', 'line\nbreak', '"q"', ''];
      const env = { PLAIN: 'v', TRICKY: "a'b\"c $d `e` \\f\ng" };
      const script = join(dir, 'machine.sh');
      writeFileSync(script, machineScript({ argv, env, volumePath: '/data/vol', binds: ['/usr', '/srv/erne'], cwd: '/', hostname: 'm1' }));
      const out = execFileSync('/bin/busybox', ['sh', '-c', `. ${script}; erne_env; printf '%s\\0' "$@" "$TRICKY" "$PLAIN" "$ERNE_VOLUME" "$ERNE_BINDS"`]).toString();
      expect(out.split('\0').slice(0, -1)).toEqual([...argv, env.TRICKY, 'v', '/data/vol', '/usr /srv/erne']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itNeeds(busybox)('carries the command without the snapshot unchanged for the init to run if node refuses it', () => {
    const dir = tempDir('erne-mvparts-');
    try {
      const plain = ['/usr/bin/node', '/srv/erne/dist/cli/erne.js', "it's", 'a b', '$HOME', '`x`', 'line\nbreak', '"q"', ''];
      const script = join(dir, 'machine.sh');
      writeFileSync(script, machineScript({ argv: ['/usr/bin/node', '--snapshot-blob', '/b', ...plain.slice(1)], env: {}, volumePath: '/v', binds: [], cwd: '/', hostname: 'h', withoutSnapshot: plain }));
      // as the init does after an exit code 14
      const out = execFileSync('/bin/busybox', ['sh', '-c', `. ${script}; eval "set -- $ERNE_WITHOUT_SNAPSHOT"; printf '%s\\0' "$@"`]).toString();
      expect(out.split('\0').slice(0, -1)).toEqual(plain);
      writeFileSync(script, machineScript({ argv: ['x'], env: {}, volumePath: '/v', binds: [], cwd: '/', hostname: 'h' }));
      expect(execFileSync('/bin/busybox', ['sh', '-c', `. ${script}; printf '[%s]' "$ERNE_WITHOUT_SNAPSHOT"`]).toString()).toBe('[]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itNeeds(busybox)('the init is valid sh and loads every module in order', () => {
    const dir = tempDir('erne-mvparts-');
    try {
      writeFileSync(join(dir, 'init'), INIT_SCRIPT);
      execFileSync('/bin/busybox', ['sh', '-n', join(dir, 'init')]); // throws on a syntax error
      expect(INIT_SCRIPT).toContain(`for m in ${GUEST_MODULES.join(' ')}; do insmod /modules/$m.ko`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an environment name sh cannot export', () => {
    expect(() => machineScript({ argv: ['x'], env: { 'A-B': '1' }, volumePath: '/v', binds: [], cwd: '/', hostname: 'h' })).toThrow(/A-B/);
  });
});

describe('initramfs archive', () => {
  itNeeds(busybox)('is a newc cpio that cpio reads, also when two are concatenated', () => {
    const dir = tempDir('erne-mvparts-');
    try {
      const a = cpioArchive([
        { path: 'bin', kind: 'dir' },
        { path: 'bin/hello', kind: 'file', data: Buffer.from('hi\n'), mode: 0o755 },
        { path: 'bin/sh', kind: 'symlink', target: 'busybox' },
        { path: 'dev/console', kind: 'chardev', major: 5, minor: 1 },
      ]);
      expect(a.length % 512).toBe(0);
      const file = join(dir, 'a.cpio');
      writeFileSync(file, a);
      const listing = execFileSync('/bin/busybox', ['sh', '-c', `busybox cpio -t < ${file}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      expect(listing.trim().split('\n')).toEqual(['bin', 'bin/hello', 'bin/sh', 'dev/console']);
      const out = join(dir, 'out');
      execFileSync('/bin/busybox', ['sh', '-c', `mkdir ${out} && cd ${out} && busybox cpio -i -d -u < ${file} 2>/dev/null; true`]);
      expect(execFileSync('/bin/busybox', ['cat', join(out, 'bin/hello')]).toString()).toBe('hi\n');
      expect(execFileSync('/bin/busybox', ['readlink', join(out, 'bin/sh')]).toString()).toBe('busybox\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('per-machine archive', () => {
  const list = (archive: Buffer) => {
    const dir = tempDir('erne-mvparts-');
    try {
      writeFileSync(join(dir, 'm.cpio'), archive);
      return execFileSync('/bin/busybox', ['sh', '-c', `busybox cpio -tv < ${join(dir, 'm.cpio')}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const settings = { argv: ['x'], env: {}, volumePath: '/tmp/e/vol-1', binds: ['/usr', '/srv/app'], cwd: '/', hostname: 'm1' };

  itNeeds(busybox)('makes the mount points, each after its parent, and links /lib and /lib64 into /usr', () => {
    const out = list(machineArchive(settings));
    const names = out.trim().split('\n').map((l) => l.split(/\s+/).slice(5).join(' '));
    expect(names).toEqual(['etc', 'etc/erne-machine.sh', 'srv', 'srv/app', 'tmp', 'tmp/e', 'tmp/e/vol-1', 'usr', 'lib -> usr/lib', 'lib64 -> usr/lib64']);
  });
  itNeeds(busybox)('leaves /lib alone where the image binds it', () => {
    const out = list(machineArchive({ ...settings, binds: ['/lib', '/usr'] }));
    expect(out).toContain('lib64 -> usr/lib64');
    expect(out).not.toContain('lib -> usr/lib\n');
  });
});

describe('kernel modules', () => {
  const magic = Buffer.from('~Module signature appended~\n');
  const signed = (body: Buffer, sig: Buffer) => {
    const info = Buffer.alloc(12);
    info.writeUInt32BE(sig.length, 8);
    return Buffer.concat([body, sig, info, magic]);
  };

  it('go into the initramfs without their appended signature', () => {
    const body = Buffer.from('\x7fELF module body');
    expect(withoutSignature(signed(body, Buffer.alloc(512, 7)))).toEqual(body);
    expect(withoutSignature(body)).toEqual(body); // unsigned: unchanged
    expect(() => withoutSignature(signed(Buffer.alloc(0), Buffer.alloc(8)))).toThrow(/malformed/);
  });
});

describe('qemu command line', () => {
  const plan: QemuPlan = {
    accel: 'tcg', cpus: 1, memoryMb: 512, vmlinux: '/c/vmlinux', initrd: '/w,1/initrd', rootfs: '/c/rootfs.sqfs', volume: '/v/vol.img',
    volumeCache: 'none', consoleLog: '/w,1/console.log', consoleSocket: 'erne-con', qmpSocket: 'erne-qmp',
    ports: [{ internal: 9000, host: 19000, protocol: 'tcp' }, { internal: 53, host: 1053, protocol: 'udp' }], hostAddress: '127.0.0.1', tscKhz: 2_600_000,
  };
  const after = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

  it('tells the kernel the TSC rate (lpj = 4 × kHz at HZ=250) and keeps it quiet', () => {
    expect(kernelCommandLine(plan)).toBe('console=ttyS0 quiet panic=-1 tsc_early_khz=2600000 lpj=10400000 noreplace-smp cryptomgr.notests rodata=off init_on_alloc=0 initcall_blacklist=init_kprobe_trace,crypto_kdf108_init,msr_init');
    expect(kernelCommandLine({ ...plan, append: ['erne.probe'] }).split(' ').at(-1)).toBe('erne.probe');
  });
  it('forwards every port, opens the volume without the host cache, doubles commas in paths', () => {
    const args = qemuArgs(plan);
    expect(after(args, '-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:19000-:9000,hostfwd=udp:127.0.0.1:1053-:53']);
    expect(after(args, '-drive')).toEqual(['id=root,file=/c/rootfs.sqfs,format=raw,if=none,readonly=on', 'id=vol,file=/v/vol.img,format=raw,if=none,cache=none']);
    expect(after(args, '-initrd')).toEqual(['/w,1/initrd']); // a plain argument, not an option list
    expect(after(args, '-chardev')[0]).toContain('logfile=/w,,1/console.log');
    expect(after(args, '-accel')).toEqual(['tcg']);
    expect(after(args, '-cpu')).toEqual(['max,-erms,-fsrm']);
    expect(after(qemuArgs({ ...plan, tcgCpu: 'qemu64' }), '-cpu')).toEqual(['qemu64']);
    expect(after(qemuArgs({ ...plan, accel: 'kvm' }), '-cpu')).toEqual(['host']);
  });
});

describe('image contents', () => {
  it('carries the runtime dependencies and none of the dev ones', () => {
    const pkgs = runtimePackages(PROJECT_ROOT).map((p) => p.slice(PROJECT_ROOT.length + 1));
    expect(pkgs).toContain('node_modules/lmdb');
    expect(pkgs).toContain('node_modules/hono');
    expect(pkgs.some((p) => p.includes('vitest') || p.includes('typescript') || p.includes('@aws-sdk'))).toBe(false);
    expect(existsSync(join(PROJECT_ROOT, 'package.json'))).toBe(true);
  });
});

const esbuild = await loadEsbuild(PROJECT_ROOT);
const hasEsbuild = need(esbuild ? undefined : 'esbuild (npm ci installs it, a devDependency)');

describe('bundled CLI', () => {
  itNeeds(hasEsbuild)('gives every module its own import.meta.url, __dirname and __filename, as unbundled', async () => {
    const dir = tempDir('erne-mvbundle-');
    try {
      mkdirSync(join(dir, 'lib'));
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      writeFileSync(join(dir, 'lib', 'where.cjs'), 'module.exports = { dir: __dirname, file: __filename };\n');
      writeFileSync(join(dir, 'lib', 'url.js'), 'import where from "./where.cjs";\nexport const url = import.meta.url;\nexport { where };\n');
      writeFileSync(join(dir, 'main.js'), '#!/usr/bin/env node\nimport { url, where } from "./lib/url.js";\nconsole.log(JSON.stringify({ main: import.meta.url, url, where }));\n');
      const expected = execFileSync(process.execPath, [join(dir, 'main.js')]).toString();
      const out = join(dir, 'out', 'main.js');
      expect(await bundleEntry(esbuild!, join(dir, 'main.js'), out)).toBe(3);
      expect(execFileSync(process.execPath, [out]).toString()).toBe(expected);
      expect((JSON.parse(expected) as { where: { dir: string } }).where.dir).toBe(join(dir, 'lib'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('startup snapshot', () => {
  const node = '/usr/bin/node';
  const erneJs = '/srv/erne/dist/cli/erne.js';
  it('is used for argv that run the image CLI, with node profiling flags kept before the script', () => {
    expect(withSnapshot([node, erneJs, 'serve', '--port', '9000'], node, erneJs)).toEqual([node, ...SNAPSHOT_V8_FLAGS, '--snapshot-blob', GUEST_BLOB, erneJs, 'serve', '--port', '9000']);
    expect(withSnapshot([node, '--cpu-prof', '--cpu-prof-dir=/p', erneJs, 'serve'], node, erneJs)).toEqual([node, '--cpu-prof', '--cpu-prof-dir=/p', ...SNAPSHOT_V8_FLAGS, '--snapshot-blob', GUEST_BLOB, erneJs, 'serve']);
  });
  it('is used for the command a shell step runs with exec "$@" (erne dev machines)', () => {
    const step = ['/bin/sh', '-c', 'printf x > /tmp/f && exec "$@" --cluster /tmp/f', 'sh'];
    expect(withSnapshot([...step, node, erneJs, 'serve'], node, erneJs)).toEqual([...step, node, ...SNAPSHOT_V8_FLAGS, '--snapshot-blob', GUEST_BLOB, erneJs, 'serve']);
    expect(withSnapshot([...step, '/usr/bin/python3', 'x.py'], node, erneJs)).toBeUndefined();
    expect(withSnapshot(['/bin/sh', '-c', `${node} ${erneJs} serve`], node, erneJs)).toBeUndefined();
  });
  it('is not used for other programs, or where a flag (maybe V8 one) comes before the script', () => {
    expect(withSnapshot([node, '-e', '1'], node, erneJs)).toBeUndefined();
    expect(withSnapshot(['/bin/sh', '-c', 'x'], node, erneJs)).toBeUndefined();
    expect(withSnapshot([node, '--max-old-space-size=100', erneJs, 'serve'], node, erneJs)).toBeUndefined();
    expect(withSnapshot(['/opt/other/node', erneJs, 'serve'], node, erneJs)).toBeUndefined();
  });

  itNeeds(hasEsbuild)(
    'builds on this host from the bundled input, and the gateway started from it serves S3 and runs --workers',
    async () => {
      const dir = tempDir('erne-mvsnap-');
      try {
        const entry = join(dir, 'erne-snapshot.cjs');
        // as the image has them: lmdb as one file with its add-on's path, loaded when the snapshot runs
        const lmdb = await bundleLmdb(esbuild!, PROJECT_ROOT, join(dir, 'erne-lmdb.cjs'));
        await bundleSnapshotEntry(esbuild!, join(PROJECT_ROOT, 'dist', 'cli', 'snapshot-entry.js'), entry, PROJECT_ROOT, { lmdb });
        const blob = join(dir, 'erne.blob');
        execFileSync(process.execPath, [...SNAPSHOT_V8_FLAGS, '--snapshot-blob', blob, '--build-snapshot', entry], { env: { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' }, stdio: 'pipe' });
        const nodeArgs = [...SNAPSHOT_V8_FLAGS, '--snapshot-blob', blob];
        // the same command line as without it: the script path is dropped by the snapshot's main
        expect(execFileSync(process.execPath, [...nodeArgs, ERNE_JS, '--version']).toString()).toBe(execFileSync(process.execPath, [ERNE_JS, '--version']).toString());
        for (const args of [[], ['--workers', '2']]) {
          const gw = await startChildGateway({ nodeArgs, args, dataDir: join(dir, `data-${args.length}`) });
          const s3 = s3Client(gw);
          try {
            await s3.send(new CreateBucketCommand({ Bucket: 'snap' }));
            for (let i = 0; i < 4; i++) await s3.send(new PutObjectCommand({ Bucket: 'snap', Key: `k${i}`, Body: `body ${i}` }));
            for (let i = 0; i < 4; i++) expect(await (await s3.send(new GetObjectCommand({ Bucket: 'snap', Key: `k${i}` }))).Body!.transformToString()).toBe(`body ${i}`);
            // the second worker (forked by cluster with the same snapshot flag) announces itself
            if (args.length) await waitFor('worker 1 to serve', () => /worker 1 \(pid \d+\) is serving S3/.test(gw.output()), 30_000);
          } finally {
            s3.destroy();
            await gw.stop({ keepData: true });
          }
          expect(gw.proc.exitCode).toBe(0);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
