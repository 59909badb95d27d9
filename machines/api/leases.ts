/**
 * Machine leases as Fly has them: whoever holds a lease gets a nonce, and while the lease is
 * unexpired every mutating call on the machine must present it in `fly-machine-lease-nonce`:
 * without it the call is refused with 409 (someone else holds the machine), with a wrong one
 * with 412. Taking a lease that another holds is a 409; presenting its nonce refreshes it.
 */
import { randomBytes } from 'node:crypto';
import type { MachineRecord, MachineStore } from '../store.js';
import { ApiError, badRequest, notFound } from './errors.js';
import type { LeaseData, LeaseResponse } from './types.js';

export const NONCE_HEADER = 'fly-machine-lease-nonce';
const DEFAULT_TTL_S = 30;
const MAX_TTL_S = 3600;

function held(m: MachineRecord, now = Date.now()): LeaseData | undefined {
  return m.lease && m.lease.expires_at * 1000 > now ? m.lease : undefined;
}

/** throws unless the caller may change the machine under its current lease */
export function checkLease(m: MachineRecord, nonce: string | undefined): void {
  const lease = held(m);
  if (!lease) return;
  if (!nonce) throw new ApiError(409, `machine ${m.id} is leased by ${lease.owner || 'another client'} until ${new Date(lease.expires_at * 1000).toISOString()}: present its nonce in ${NONCE_HEADER}`);
  if (nonce !== lease.nonce) throw new ApiError(412, `lease nonce mismatch for machine ${m.id}`);
}

export function acquireLease(store: MachineStore, m: MachineRecord, body: { ttl?: unknown; description?: unknown }, nonce: string | undefined, owner: string): LeaseResponse {
  const ttl = body.ttl === undefined || body.ttl === null ? DEFAULT_TTL_S : Number(body.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_S) throw badRequest(`ttl: whole seconds 1..${MAX_TTL_S}`);
  const current = held(m);
  if (current && nonce !== current.nonce) {
    if (nonce) throw new ApiError(412, `lease nonce mismatch for machine ${m.id}`);
    throw new ApiError(409, `machine ${m.id} already has a lease, held by ${current.owner || 'another client'} until ${new Date(current.expires_at * 1000).toISOString()}`);
  }
  const lease: LeaseData = {
    nonce: current?.nonce ?? randomBytes(12).toString('hex'),
    expires_at: Math.floor(Date.now() / 1000) + ttl,
    owner,
    description: typeof body.description === 'string' ? body.description : (current?.description ?? ''),
    version: current?.version ?? randomBytes(8).toString('hex'),
  };
  store.update(() => void (m.lease = lease));
  return { status: 'success', data: lease };
}

export function getLease(m: MachineRecord): LeaseResponse {
  const lease = held(m);
  if (!lease) throw notFound(`lease for machine ${m.id}`);
  return { status: 'success', data: lease };
}

export function releaseLease(store: MachineStore, m: MachineRecord, nonce: string | undefined): void {
  const lease = held(m);
  if (!lease) throw notFound(`lease for machine ${m.id}`);
  checkLease(m, nonce);
  store.update(() => void delete m.lease);
}
