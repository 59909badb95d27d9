/**
 * Peak RSS and CPU of a local server process (and its descendants, for servers that fork
 * workers), sampled from /proc/<pid>/status and /proc/<pid>/stat while a workload runs.
 * Linux only; elsewhere the sampler reports nothing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface Stat {
  ppid: number;
  /** utime + stime, clock ticks */
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces and parentheses: fields start after the last ')'
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/**
 * VmRSS, and RssAnon: the process's own memory (heap, buffers). The difference is mostly
 * file pages mapped into it, for Erne LMDB's memory-mapped database: page cache the kernel
 * can drop, which grows with the metadata read and not with the load.
 */
function rssBytes(pid: number): { all: number; anon: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { all: kb('VmRSS'), anon: kb('RssAnon') };
  } catch {
    return { all: 0, anon: 0 };
  }
}

/** pid and every live descendant of it */
function processTree(root: number): Map<number, Stat> {
  const all = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) all.set(Number(name), st);
  }
  const tree = new Map<number, Stat>();
  const want = [root];
  while (want.length > 0) {
    const pid = want.pop()!;
    const st = all.get(pid);
    if (!st || tree.has(pid)) continue;
    tree.set(pid, st);
    for (const [p, s] of all) if (s.ppid === pid) want.push(p);
  }
  return tree;
}

export interface ServerUsage {
  pid: number;
  /** highest sum of RSS over the process tree seen while sampling */
  peakRssBytes: number;
  /** the same for RssAnon: without file pages mapped in (LMDB's database file) */
  peakAnonRssBytes: number;
  /** CPU used over the sampling window, 100 = one core busy */
  cpuPercent: number;
  processes: number;
}

export interface Sampler {
  stop(): ServerUsage;
}

export function sampleProcess(pid: number, everyMs = 200): Sampler {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let peak = 0;
  let peakAnon = 0;
  const t0 = performance.now();
  const sample = () => {
    let rss = 0;
    let anon = 0;
    for (const [p, st] of processTree(pid)) {
      if (!first.has(p)) first.set(p, st.ticks);
      last.set(p, st.ticks);
      const r = rssBytes(p);
      rss += r.all;
      anon += r.anon;
    }
    peak = Math.max(peak, rss);
    peakAnon = Math.max(peakAnon, anon);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const secs = (performance.now() - t0) / 1000;
      let ticks = 0;
      for (const [p, t] of last) ticks += t - first.get(p)!;
      return { pid, peakRssBytes: peak, peakAnonRssBytes: peakAnon, cpuPercent: secs > 0 ? (100 * ticks) / ticksPerSecond() / secs : 0, processes: last.size };
    },
  };
}

/** the pid of the local process listening on a TCP port, via /proc/net/tcp{,6} and fd links */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${name}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(name);
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return undefined;
}
