/**
 * The cluster's topology: its regions, where each one's gateways answer other regions, which
 * region decides bucket creation and deletion, and the shared secret that authenticates
 * traffic between regions. Read from a JSON file (`erne serve --cluster FILE`, ERNE_CLUSTER):
 *
 *   {
 *     "control": "iad",                         // decides CreateBucket/DeleteBucket (default: the first region)
 *     "secret": "…",                            // or ERNE_CLUSTER_SECRET (which wins); ≥ 16 characters
 *     "regions": [
 *       { "name": "iad", "internal": ["http://10.0.1.5:9000"] },
 *       { "name": "fra", "internal": ["http://10.0.2.5:9000", "http://10.0.2.6:9000"] }
 *     ]
 *   }
 *
 * Every mistake is a TopologyError whose message is one line naming the file and the fault.
 */
import { readFileSync } from 'node:fs';

export interface RegionInfo {
  name: string;
  /** base URLs of the region's gateways' internal endpoints (any of them will do) */
  internal: string[];
}

export interface Topology {
  /** this gateway's region */
  self: string;
  control: string;
  secret: string;
  regions: RegionInfo[];
}

export class TopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopologyError';
  }
}

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const MIN_SECRET_LENGTH = 16;

/** the other regions, in the file's order */
export function peersOf(t: Topology): RegionInfo[] {
  return t.regions.filter((r) => r.name !== t.self);
}

export function regionInfo(t: Topology, name: string): RegionInfo | undefined {
  return t.regions.find((r) => r.name === name);
}

export function loadTopology(path: string, self: string, env: Record<string, string | undefined> = process.env): Topology {
  return parseTopology(readClusterFile(path), self, env, path);
}

/** the regions a cluster file lists (for tools that only call the regions: no secret needed) */
export function loadRegions(path: string): RegionInfo[] {
  return parseRegions(readClusterFile(path), path);
}

function readClusterFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TopologyError(`cannot read the cluster file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TopologyError(`the cluster file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseRegions(doc: unknown, source: string): RegionInfo[] {
  const fail = (what: string): never => {
    throw new TopologyError(`${source}: ${what}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('expected a JSON object with "regions"');
  const o = doc as Record<string, unknown>;
  if (!Array.isArray(o['regions']) || o['regions'].length === 0) fail('"regions" must be a non-empty list');
  const regions: RegionInfo[] = [];
  for (const [i, r] of (o['regions'] as unknown[]).entries()) {
    if (typeof r !== 'object' || r === null) fail(`regions[${i}] must be an object with "name" and "internal"`);
    const { name, internal } = r as Record<string, unknown>;
    if (typeof name !== 'string' || !NAME.test(name)) fail(`regions[${i}].name must be 1-32 of a-z, 0-9 and '-', got ${JSON.stringify(name)}`);
    if (regions.some((x) => x.name === name)) fail(`region ${name} is listed twice`);
    const urls = typeof internal === 'string' ? [internal] : internal;
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string' && isHttpUrl(u))) {
      fail(`regions[${i}].internal must be an http(s) URL or a list of them`);
    }
    regions.push({ name: name as string, internal: (urls as string[]).map((u) => u.replace(/\/+$/, '')) });
  }
  return regions;
}

export function parseTopology(doc: unknown, self: string, env: Record<string, string | undefined> = {}, source = 'cluster'): Topology {
  const fail = (what: string): never => {
    throw new TopologyError(`${source}: ${what}`);
  };
  const regions = parseRegions(doc, source);
  const o = doc as Record<string, unknown>;
  if (!regions.some((r) => r.name === self)) fail(`this region (${self}) is not among its regions (${regions.map((r) => r.name).join(', ')}); start with --region set to one of them`);
  const control = o['control'] === undefined ? regions[0]!.name : o['control'];
  if (typeof control !== 'string' || !regions.some((r) => r.name === control)) fail(`"control" must name one of its regions, got ${JSON.stringify(control)}`);
  const secret = env['ERNE_CLUSTER_SECRET'] || o['secret'];
  if (secret === undefined || secret === '') fail('no cluster secret: set ERNE_CLUSTER_SECRET or "secret" in the file');
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) fail(`the cluster secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  return { self, control: control as string, secret: secret as string, regions };
}

function isHttpUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}
