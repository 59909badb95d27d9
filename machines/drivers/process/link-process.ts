/**
 * One link between regions as a process of its own: `node link-process.js <json>` runs the
 * latency proxy (machines/net/latency-proxy.ts) until SIGTERM, so a link outlives the
 * scheduler that opened it, as the machines using it do. SIGUSR1 cuts it (a partition),
 * SIGUSR2 heals it. Once listening it writes its port to the ready file.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { startLatencyProxy } from '../../net/latency-proxy.js';

export interface LinkArgs {
  host: string;
  port: number;
  target: { host: string; port: number };
  delayMs: number;
  readyFile: string;
}

async function main(args: LinkArgs): Promise<void> {
  const proxy = await startLatencyProxy({ host: args.host, port: args.port, target: args.target, delayMs: args.delayMs });
  process.on('SIGUSR1', () => proxy.cut());
  process.on('SIGUSR2', () => proxy.heal());
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void proxy.close().then(() => process.exit(0)));
  // whole or not at all: the driver reads it as soon as it exists
  writeFileSync(`${args.readyFile}.tmp`, JSON.stringify({ port: proxy.port }));
  renameSync(`${args.readyFile}.tmp`, args.readyFile);
}

main(JSON.parse(process.argv[2] ?? '{}') as LinkArgs).catch((err: unknown) => {
  process.stderr.write(`erne link: ${(err as Error).message}\n`);
  process.exit(1);
});
