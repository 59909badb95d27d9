/**
 * Where a machine of a region runs, network-wise. Two modes:
 *
 * - netns (root with iproute2): each region is a network namespace `<prefix><region>` joined to
 *   the host by a veth pair; the host side has 10.77.<n>.1/24, the region side 10.77.<n>.2/24
 *   (one free <n> per region, chosen so two drivers on one host never share a subnet). The
 *   machine runs under `ip netns exec`, so its program listens on the region's address (it
 *   must listen on 0.0.0.0, as on Fly) and reaches the host at 10.77.<n>.1 (a host service
 *   must listen there or on 0.0.0.0) and nothing else: no default route, so regions stay
 *   apart even where the host forwards IP. Traffic between regions goes through a latency
 *   link (link() in the driver, links.ts): the same userspace proxy `erne dev --latency`
 *   uses, since this kernel has no netem.
 * - loopback (no root, no `ip`, or asked for): machines run on the host's own network and
 *   listen on 127.0.0.1; a region is only a name. The status detail says which mode and why.
 *
 * The namespaces made are recorded in <root>/network.json, so a restarted driver reuses them
 * and teardown() removes exactly those (tests leave no namespace behind).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readJson, writeJson } from './machine-files.js';

const run = promisify(execFile);

export type NetworkChoice = 'loopback' | 'netns' | 'auto';

export interface Placement {
  /** the program's argv, wrapped to run inside the region (netns) or as is */
  wrap(argv: string[]): string[];
  /** the address at which the host reaches a machine of this region */
  machineHost: string;
  /** the address at which a machine of this region reaches the host (for links and host services) */
  hostAddress: string;
  detail: Record<string, string>;
}

interface RegionRecord {
  netns: string;
  index: number;
  hostIf: string;
}

interface NetworkFile {
  prefix: string;
  subnet: string;
  regions: Record<string, RegionRecord>;
}

export interface NetworkOptions {
  root: string;
  choice: NetworkChoice;
  /** namespace name prefix (default "erne-"): tests use their own, so runs never meet */
  prefix?: string;
  /** the first two octets of the region subnets (default "10.77") */
  subnet?: string;
}

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));

/** why netns mode cannot run here, or undefined when it can */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!IP) return 'iproute2 (`ip`) is not installed';
  try {
    execFileSync(IP, ['netns', 'list'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return '`ip netns list` fails';
  }
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await run(IP!, args)).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

const LOOPBACK = (reason: string): Placement => ({
  wrap: (argv) => argv,
  machineHost: '127.0.0.1',
  hostAddress: '127.0.0.1',
  detail: { network: 'loopback', network_reason: reason, address: '127.0.0.1' },
});

export class RegionNetwork {
  readonly mode: 'loopback' | 'netns';
  /** why loopback was chosen */
  readonly reason: string;
  private readonly path: string;
  private readonly prefix: string;
  private readonly subnet: string;
  /** one set-up at a time: two machines of a new region must not both create it */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: NetworkOptions) {
    this.path = join(opts.root, 'network.json');
    this.prefix = opts.prefix ?? 'erne-';
    this.subnet = opts.subnet ?? '10.77';
    const missing = opts.choice === 'loopback' ? 'asked for' : netnsUnavailable();
    if (missing && opts.choice === 'netns') throw new Error(`cannot use network namespaces: ${missing}`);
    this.mode = missing ? 'loopback' : 'netns';
    this.reason = missing ?? '';
  }

  /** makes sure the region exists and says how a machine runs there */
  place(region: string): Promise<Placement> {
    if (this.mode === 'loopback') return Promise.resolve(LOOPBACK(this.reason));
    const next = this.busy.then(() => this.ensure(region));
    this.busy = next.catch(() => undefined);
    return next;
  }

  /** the namespaces this driver made, by region */
  regions(): Record<string, string> {
    const file = this.load();
    return Object.fromEntries(Object.entries(file.regions).map(([r, rec]) => [r, rec.netns]));
  }

  /**
   * Removes one region's namespace and veth, after `before` (the region's links go first), unless
   * `inUse()` says a machine may still run there. It waits its turn behind every place() asked
   * for before it, and a place() asked for after it makes the region again: a machine starting
   * meanwhile never finds its namespace gone.
   */
  release(region: string, inUse: () => boolean, before: () => Promise<void>): Promise<boolean> {
    if (this.mode === 'loopback') return Promise.resolve(false);
    const next = this.busy.then(async () => {
      const file = this.load();
      const rec = file.regions[region];
      if (!rec || inUse()) return false;
      await before();
      await this.remove(rec);
      delete file.regions[region];
      writeJson(this.path, file);
      return true;
    });
    this.busy = next.catch(() => undefined);
    return next;
  }

  /** removes every namespace and veth this driver made (machines in them should be gone first) */
  async teardown(): Promise<void> {
    if (this.mode === 'loopback') return;
    const file = this.load();
    for (const [region, rec] of Object.entries(file.regions)) {
      await ip(['netns', 'delete', rec.netns]).catch(() => undefined);
      // deleting the namespace takes the pair with it, unless a process still holds the namespace
      await ip(['link', 'delete', rec.hostIf]).catch(() => undefined);
      delete file.regions[region];
      writeJson(this.path, file);
    }
  }

  private load(): NetworkFile {
    return readJson<NetworkFile>(this.path) ?? { prefix: this.prefix, subnet: this.subnet, regions: {} };
  }

  private placement(region: string, rec: RegionRecord): Placement {
    const machineHost = `${this.subnet}.${rec.index}.2`;
    return {
      wrap: (argv) => [IP!, 'netns', 'exec', rec.netns, ...argv],
      machineHost,
      hostAddress: `${this.subnet}.${rec.index}.1`,
      detail: { network: 'netns', netns: rec.netns, address: machineHost, region },
    };
  }

  private async ensure(region: string): Promise<Placement> {
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(region)) throw new Error(`region name ${JSON.stringify(region)} cannot name a network namespace`);
    const file = this.load();
    const known = file.regions[region];
    if (known && (await this.intact(known))) return this.placement(region, known);
    if (known) await this.remove(known);
    const netns = `${this.prefix}${region}`;
    // a namespace of that name we did not record belongs to someone else: never take it over
    await ip(['netns', 'add', netns]).catch((err: Error) => {
      throw new Error(`cannot create network namespace ${netns} (another driver may use the prefix ${JSON.stringify(this.prefix)}): ${err.message}`);
    });
    // a subnet and interface number nobody on this host uses; another driver may take the same
    // one at the same moment, so a clash moves on to the next number
    for (let attempt = 0; ; attempt++) {
      const index = await this.freeIndex(file);
      const rec: RegionRecord = { netns, index, hostIf: `ernev${index}` };
      try {
        await this.join(rec);
      } catch (err) {
        await ip(['link', 'delete', rec.hostIf]).catch(() => undefined);
        if (attempt === 4) {
          await ip(['netns', 'delete', netns]).catch(() => undefined);
          throw err;
        }
        continue;
      }
      file.regions[region] = rec;
      writeJson(this.path, file);
      return this.placement(region, rec);
    }
  }

  private async intact(rec: RegionRecord): Promise<boolean> {
    const list = await ip(['netns', 'list']);
    if (!list.split('\n').some((l) => l.split(' ')[0] === rec.netns)) return false;
    return ip(['link', 'show', rec.hostIf]).then(
      () => true,
      () => false,
    );
  }

  private async freeIndex(file: NetworkFile): Promise<number> {
    const used = new Set(Object.values(file.regions).map((r) => r.index));
    const addrs = await ip(['-o', '-4', 'addr', 'show']);
    const links = await ip(['-o', 'link', 'show']);
    const esc = this.subnet.replace('.', '\\.');
    for (const m of addrs.matchAll(new RegExp(`\\b${esc}\\.(\\d+)\\.`, 'g'))) used.add(Number(m[1]));
    for (const m of links.matchAll(/\bernev(\d+)\b/g)) used.add(Number(m[1]));
    for (let i = 1; i < 255; i++) if (!used.has(i)) return i;
    throw new Error(`no free subnet left in ${this.subnet}.0.0/16`);
  }

  /**
   * The veth pair between the host and the (new, empty) namespace, with addresses. No default
   * route: the region reaches the host's own address and nothing else, so regions stay apart
   * even on a host that forwards IP; they meet only through links.
   */
  private async join(rec: RegionRecord): Promise<void> {
    const host = `${this.subnet}.${rec.index}.1`;
    const inside = `${this.subnet}.${rec.index}.2`;
    const peer = `ernep${rec.index}`;
    await ip(['link', 'add', rec.hostIf, 'type', 'veth', 'peer', 'name', peer, 'netns', rec.netns]);
    await ip(['addr', 'add', `${host}/24`, 'dev', rec.hostIf]);
    await ip(['link', 'set', rec.hostIf, 'up']);
    const inNs = (args: string[]) => ip(['-n', rec.netns, ...args]);
    await inNs(['addr', 'add', `${inside}/24`, 'dev', peer]);
    await inNs(['link', 'set', peer, 'up']);
    await inNs(['link', 'set', 'lo', 'up']);
  }

  private async remove(rec: RegionRecord): Promise<void> {
    await ip(['netns', 'delete', rec.netns]).catch(() => undefined);
    await ip(['link', 'delete', rec.hostIf]).catch(() => undefined);
  }
}
