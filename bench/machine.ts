/**
 * The physical limits a reader needs beside the results: the disk's fsync latency (what a
 * durable PUT must wait for at least once) and how fast one core hashes MD5 (the ETag) and
 * SHA-256 (signed payloads), plus what the machine is.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { Histogram } from './histogram.js';

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** write 4 KiB + fsync, in the directory measured */
  fsync: { dir: string; samples: number; p50Ms: number; p99Ms: number };
  hashMiBPerSec: { md5: number; sha256: number };
}

export function fsyncLatency(parent: string, samples = 200): MachineFacts['fsync'] {
  const dir = mkdtempSync(join(parent, 'erne-fsync-'));
  const h = new Histogram();
  const block = randomBytes(4096);
  try {
    for (let i = 0; i < samples; i += 1) {
      const t0 = performance.now();
      // a new file each time, as a PUT makes: write, fsync, close
      const fd = openSync(join(dir, `f${i}`), 'w');
      writeSync(fd, block);
      fsyncSync(fd);
      closeSync(fd);
      h.record((performance.now() - t0) * 1000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { dir: parent, samples, p50Ms: h.quantile(0.5) / 1000, p99Ms: h.quantile(0.99) / 1000 };
}

export function hashThroughput(algorithm: 'md5' | 'sha256', mib = 256): number {
  const chunk = randomBytes(1 << 20);
  const hash = createHash(algorithm);
  const t0 = performance.now();
  for (let i = 0; i < mib; i += 1) hash.update(chunk);
  hash.digest();
  return mib / ((performance.now() - t0) / 1000);
}

export function machineFacts(fsyncDir: string): MachineFacts {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
    fsync: fsyncLatency(fsyncDir),
    hashMiBPerSec: { md5: hashThroughput('md5'), sha256: hashThroughput('sha256') },
  };
}

export function formatMachine(m: MachineFacts): string {
  return [
    `machine: ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node.js ${m.node}`,
    `disk:    4 KiB write+fsync of a new file: p50 ${m.fsync.p50Ms.toFixed(2)} ms, p99 ${m.fsync.p99Ms.toFixed(2)} ms (${m.fsync.samples} samples in ${m.fsync.dir})`,
    `hashing: MD5 ${m.hashMiBPerSec.md5.toFixed(0)} MiB/s (${(1000 / m.hashMiBPerSec.md5).toFixed(2)} ms per MiB), SHA-256 ${m.hashMiBPerSec.sha256.toFixed(0)} MiB/s, one core`,
  ].join('\n');
}
