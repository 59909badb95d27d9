/**
 * For the bucket-location tests: request headers the SDK does not model (X-Tigris-Regions),
 * response headers it does not return (x-erne-locations, x-amz-replication-status on HEAD
 * is modelled, but GetBucketLocation's extra header is not), and a scan of a data directory
 * for an object's bytes.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';

type Cmd = { middlewareStack: { add(mw: unknown, opts: { step: string; name?: string }): void } };

/** adds request headers before signing (they are signed like the others) */
export function withHeaders<C>(cmd: C, headers: Record<string, string>): C {
  (cmd as unknown as Cmd).middlewareStack.add(
    (next: (a: unknown) => unknown) => (args: { request: { headers: Record<string, string> } }) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'build' },
  );
  return cmd;
}

/** sends `cmd` and resolves with the raw response headers (and the output) */
export async function sendForHeaders<O>(s3: S3Client, cmd: unknown): Promise<{ headers: Record<string, string>; output: O }> {
  let headers: Record<string, string> = {};
  (cmd as Cmd).middlewareStack.add(
    (next: (a: unknown) => Promise<{ response: { headers: Record<string, string> } }>) => async (args: unknown) => {
      const r = await next(args);
      headers = r.response.headers;
      return r;
    },
    { step: 'deserialize' },
  );
  const output = (await s3.send(cmd as never)) as O;
  return { headers, output };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (s?.isDirectory()) out.push(...filesUnder(p));
    else if (s?.isFile()) out.push(p);
  }
  return out;
}

/** the files under `dir` that contain any of `needles` (streamed, with overlap, so files of any size are read) */
export async function filesHolding(dir: string, needles: Buffer[]): Promise<string[]> {
  const longest = Math.max(...needles.map((n) => n.length));
  const found: string[] = [];
  for (const file of filesUnder(dir)) {
    let tail = Buffer.alloc(0);
    let hit = false;
    for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) {
      const buf = Buffer.concat([tail, chunk as Buffer]);
      if (needles.some((n) => buf.includes(n))) {
        hit = true;
        break;
      }
      tail = buf.subarray(Math.max(0, buf.length - longest + 1));
    }
    if (hit) found.push(file);
  }
  return found;
}

/** distinctive windows of an object's bytes: what a scan looks for */
export function needlesOf(bytes: Buffer): Buffer[] {
  const w = Math.min(48, bytes.length);
  return [0, Math.floor(bytes.length / 2), bytes.length - w].map((at) => bytes.subarray(at, at + w));
}
