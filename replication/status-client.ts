/**
 * Reads the replication status document (GET /.erne/replication, replication/monitor.ts) from
 * each region's gateway, for `erne replication status`. A region listed with several URLs is
 * asked at the next one when a URL cannot be reached. Every failure becomes one line of text
 * in the reading, never an exception: one region that is away does not hide the others.
 */
import http from 'node:http';
import https from 'node:https';
import type { ReplicationStatus } from './monitor.js';

export const STATUS_PATH = '/.erne/replication';

export interface StatusSource {
  /** the region's name, when known (from a cluster file) */
  region?: string;
  urls: string[];
}

export type StatusReading =
  | { endpoint: string; region: string; status: ReplicationStatus }
  /** `region` when it was known beforehand */
  | { endpoint: string; region?: string; error: string };

/** GET url: its status and body (a status document is small), or throws with a short reason */
function get(url: URL, timeoutMs: number): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (text.length < 4 << 20) text += d;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.once('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // one line: a TLS failure's message carries OpenSSL's whole trace
    req.once('error', (err: Error) => reject(new Error(err.message.split('\n')[0]!.slice(0, 160))));
    req.end();
  });
}

function isStatus(doc: unknown): doc is ReplicationStatus {
  const d = doc as Partial<ReplicationStatus> | null;
  return typeof d === 'object' && d !== null && typeof d.region === 'string' && Array.isArray(d.destinations);
}

async function readOne(base: string, timeoutMs: number): Promise<{ status: ReplicationStatus } | { error: string; answered: boolean }> {
  let res: { status: number; text: string };
  try {
    res = await get(new URL(STATUS_PATH, base), timeoutMs);
  } catch (err) {
    return { error: `cannot be reached: ${(err as Error).message}`, answered: false };
  }
  const text = res.text;
  if (res.status === 404 && text.includes('not one region of a cluster')) return { error: 'is not one region of a cluster (started without --cluster)', answered: true };
  if (res.status !== 200) return { error: `answered HTTP ${res.status} instead of a replication status${text ? `: ${text.trim().split('\n')[0]!.slice(0, 120)}` : ''}`, answered: true };
  try {
    const doc: unknown = JSON.parse(text);
    if (isStatus(doc)) return { status: doc };
  } catch {
    // not JSON: said below
  }
  return { error: 'answered, but not with a replication status (is it an Erne gateway?)', answered: true };
}

export async function readStatus(src: StatusSource, timeoutMs = 5000): Promise<StatusReading> {
  let last: StatusReading | undefined;
  for (const url of src.urls) {
    const r = await readOne(url, timeoutMs);
    if ('status' in r) return { endpoint: url, region: r.status.region, status: r.status };
    last = { endpoint: url, ...(src.region ? { region: src.region } : {}), error: r.error };
    // a gateway that answered speaks for its region: another URL of it would say the same
    if (r.answered) break;
  }
  return last!;
}

/** every source at once, in the order given */
export function readStatuses(srcs: StatusSource[], timeoutMs?: number): Promise<StatusReading[]> {
  return Promise.all(srcs.map((s) => readStatus(s, timeoutMs)));
}
