/**
 * A client of a Machines API: Fly's (https://api.machines.dev) or Erne's own, which answers
 * the same way. Every refusal becomes a MachinesApiError carrying the status and Fly's
 * `{"error": "…"}` text. Used by the fly driver and by `erne machines …`.
 */
import type { App, CreateMachineRequest, LeaseResponse, Machine, MachineEvent, MachineState } from './api/types.js';

export const NONCE_HEADER = 'fly-machine-lease-nonce';

export class MachinesApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'MachinesApiError';
  }
}

export interface ClientOptions {
  /** the API's base URL, without /v1 */
  endpoint: string;
  token: string;
}

type Query = Record<string, string | number | boolean | undefined>;

export class MachinesClient {
  private readonly base: string;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.endpoint.replace(/\/+$/, '') + '/v1';
  }

  private url(path: string, q: Query = {}): string {
    const qs = Object.entries(q)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return `${this.base}${path}${qs ? `?${qs}` : ''}`;
  }

  async request<T>(method: string, path: string, o: { query?: Query; body?: unknown; nonce?: string; signal?: AbortSignal } = {}): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.opts.token}` };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.nonce) headers[NONCE_HEADER] = o.nonce;
    let res: Response;
    try {
      res = await fetch(this.url(path, o.query), { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: o.signal });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message;
      throw new MachinesApiError(0, `cannot reach the Machines API at ${this.opts.endpoint}${cause ? ` (${cause})` : ''}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.trim() || res.statusText;
      try {
        const e = JSON.parse(text) as { error?: unknown };
        if (typeof e.error === 'string') message = e.error;
      } catch {
        // not JSON: the text as it came
      }
      throw new MachinesApiError(res.status, message);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private m(app: string, id = ''): string {
    return `/apps/${encodeURIComponent(app)}/machines${id ? `/${encodeURIComponent(id)}` : ''}`;
  }

  listApps(): Promise<{ total_apps: number; apps: App[] }> {
    return this.request('GET', '/apps', { query: { org_slug: 'personal' } });
  }
  getApp(app: string): Promise<App> {
    return this.request('GET', `/apps/${encodeURIComponent(app)}`);
  }
  createApp(app: string, orgSlug = 'personal'): Promise<App> {
    return this.request('POST', '/apps', { body: { app_name: app, org_slug: orgSlug } });
  }
  deleteApp(app: string): Promise<void> {
    return this.request('DELETE', `/apps/${encodeURIComponent(app)}`);
  }
  /** the app, created when it does not exist yet */
  async ensureApp(app: string): Promise<void> {
    try {
      await this.getApp(app);
    } catch (err) {
      if (!(err instanceof MachinesApiError) || err.status !== 404) throw err;
      await this.createApp(app).catch((e: unknown) => {
        if (!(e instanceof MachinesApiError) || e.status !== 409) throw e;
      });
    }
  }

  list(app: string, region?: string): Promise<Machine[]> {
    return this.request('GET', this.m(app), { query: { region } });
  }
  get(app: string, id: string): Promise<Machine> {
    return this.request('GET', this.m(app, id));
  }
  create(app: string, req: CreateMachineRequest): Promise<Machine> {
    return this.request('POST', this.m(app), { body: req });
  }
  update(app: string, id: string, req: CreateMachineRequest, nonce?: string): Promise<Machine> {
    return this.request('POST', this.m(app, id), { body: req, nonce });
  }
  start(app: string, id: string, nonce?: string): Promise<{ previous_state: MachineState }> {
    return this.request('POST', `${this.m(app, id)}/start`, { nonce });
  }
  stop(app: string, id: string, o: { signal?: string; timeout?: string } = {}, nonce?: string): Promise<void> {
    return this.request('POST', `${this.m(app, id)}/stop`, { body: o, nonce });
  }
  restart(app: string, id: string, o: { signal?: string; timeout?: string } = {}, nonce?: string): Promise<void> {
    return this.request('POST', `${this.m(app, id)}/restart`, { query: o, nonce });
  }
  signal(app: string, id: string, signal: string, nonce?: string): Promise<void> {
    return this.request('POST', `${this.m(app, id)}/signal`, { body: { signal }, nonce });
  }
  destroy(app: string, id: string, force: boolean, nonce?: string): Promise<void> {
    return this.request('DELETE', this.m(app, id), { query: { force: force || undefined }, nonce });
  }
  /** true when the state was reached; false on Fly's 408 (the timeout passed first) */
  async wait(app: string, id: string, state: MachineState, o: { timeoutS?: number; instanceId?: string } = {}): Promise<boolean> {
    try {
      await this.request('GET', `${this.m(app, id)}/wait`, { query: { state, timeout: o.timeoutS ?? 60, instance_id: o.instanceId } });
      return true;
    } catch (err) {
      if (err instanceof MachinesApiError && err.status === 408) return false;
      throw err;
    }
  }
  acquireLease(app: string, id: string, o: { ttl?: number; description?: string } = {}, nonce?: string): Promise<LeaseResponse> {
    return this.request('POST', `${this.m(app, id)}/lease`, { body: o, nonce });
  }
  getLease(app: string, id: string): Promise<LeaseResponse> {
    return this.request('GET', `${this.m(app, id)}/lease`);
  }
  releaseLease(app: string, id: string, nonce: string): Promise<void> {
    return this.request('DELETE', `${this.m(app, id)}/lease`, { nonce });
  }
  events(app: string, id: string): Promise<MachineEvent[]> {
    return this.request('GET', `${this.m(app, id)}/events`);
  }

  /** Erne's own: the machine's log lines; with follow, until the signal aborts */
  async *logs(app: string, id: string, o: { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    let res: Response;
    try {
      res = await fetch(this.url(`${this.m(app, id)}/logs`, { follow: o.follow || undefined }), { headers: { authorization: `Bearer ${this.opts.token}` }, signal: o.signal });
    } catch (err) {
      if (o.signal?.aborted) return;
      throw new MachinesApiError(0, `cannot reach the Machines API at ${this.opts.endpoint}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error: string }).error ?? text;
      } catch {
        // as it came
      }
      throw new MachinesApiError(res.status, message);
    }
    const decoder = new TextDecoder();
    let rest = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        rest += decoder.decode(chunk, { stream: true });
        const lines = rest.split('\n');
        rest = lines.pop()!;
        for (const l of lines) yield l;
      }
    } catch (err) {
      if (!o.signal?.aborted) throw err;
    }
    if (rest) yield rest;
  }
}
