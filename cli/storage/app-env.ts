/**
 * Setting env variables on an app's machines through a Machines API in Fly's shape (Fly's own
 * at api.machines.dev, or Erne's: machines/api): list the app's machines, then one machine at
 * a time take its lease, update it with its config's env extended (a new machine version, the
 * old one replaced), wait for the new version to be started when the old one was, and give
 * the lease back. `check` is the part that changes nothing: it refuses an app that has no
 * machines or already sets any of the names.
 */

export interface MachinesApi {
  endpoint: string;
  token: string;
}

/** the parts of Fly's Machine document used here; the config is sent back whole */
interface Machine {
  id: string;
  state: string;
  region?: string;
  instance_id?: string;
  config: { env?: Record<string, string> } & Record<string, unknown>;
}

export class MachinesError extends Error {
  override readonly name = 'MachinesError';
}

const NONCE_HEADER = 'fly-machine-lease-nonce';
/** seconds: Fly's wait takes at most 60 per call */
const WAIT_SECONDS = 60;

async function call<T>(api: MachinesApi, method: string, path: string, opts: { body?: unknown; nonce?: string } = {}): Promise<T> {
  const url = new URL(path.replace(/^\//, ''), api.endpoint.endsWith('/') ? api.endpoint : api.endpoint + '/');
  const headers: Record<string, string> = { authorization: `Bearer ${api.token}` };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.nonce) headers[NONCE_HEADER] = opts.nonce;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    throw new MachinesError(`cannot reach the Machines API at ${url.origin}: ${cause?.code ?? (err as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = text.trim();
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? detail;
    } catch {
      // not JSON: the text itself
    }
    throw new MachinesError(`Machines API: ${method} ${url.pathname} answered ${res.status}${detail ? `: ${detail}` : ''}`);
  }
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

const appPath = (app: string) => `v1/apps/${encodeURIComponent(app)}/machines`;

/** the app's machines (not destroyed); refuses, changing nothing, when there is none or a name is taken */
export async function checkApp(api: MachinesApi, app: string, names: readonly string[]): Promise<Machine[]> {
  const machines = (await call<Machine[]>(api, 'GET', appPath(app))).filter((m) => m.state !== 'destroyed' && m.state !== 'destroying');
  if (machines.length === 0) throw new MachinesError(`app ${app} has no machines to give the variables to`);
  const taken = new Set<string>();
  for (const m of machines) for (const n of names) if (m.config.env && Object.hasOwn(m.config.env, n)) taken.add(n);
  if (taken.size > 0) {
    throw new MachinesError(`app ${app} already sets ${[...taken].sort().join(', ')} on its machines: nothing was changed (remove them first, or use another app)`);
  }
  return machines;
}

/**
 * Rolls the env onto each machine in turn. `done` is told of each machine once its new
 * version runs (or, for one that was not running, once it is updated).
 */
export async function rollEnv(api: MachinesApi, app: string, machines: Machine[], env: Record<string, string>, done: (id: string) => void = () => undefined): Promise<void> {
  for (const m of machines) {
    const base = `${appPath(app)}/${encodeURIComponent(m.id)}`;
    const lease = await call<{ data?: { nonce?: string } }>(api, 'POST', `${base}/lease`, { body: { ttl: 120, description: 'erne storage create: setting env' } });
    const nonce = lease?.data?.nonce;
    try {
      const config = { ...m.config, env: { ...(m.config.env ?? {}), ...env } };
      const updated = await call<Machine>(api, 'POST', base, { body: { config, ...(m.region ? { region: m.region } : {}) }, nonce });
      // a machine that was running runs its new version before the next one is touched
      if (m.state === 'started') {
        const q = new URLSearchParams({ state: 'started', timeout: String(WAIT_SECONDS) });
        if (updated?.instance_id) q.set('instance_id', updated.instance_id);
        await call(api, 'GET', `${base}/wait?${q}`);
      }
    } finally {
      if (nonce) await call(api, 'DELETE', `${base}/lease`, { nonce }).catch(() => undefined);
    }
    done(m.id);
  }
}
