/**
 * A worker's step: send entries to their destination, then acknowledge them in the outbox.
 * If the send fails nothing is acknowledged (the queue retries, the relay re-sends); if the
 * acknowledgement fails after a successful send, the entries are sent again later, and the
 * destination applies them idempotently. Either way nothing is lost.
 */
import type { OutboxEntry } from '../metadata/changes.js';
import type { OutboxPort, PeerPort } from './ports.js';

export async function deliver(dest: string, entries: OutboxEntry[], peer: PeerPort, outbox: OutboxPort): Promise<void> {
  if (entries.length === 0) return;
  await peer.send(dest, entries.map((e) => e.change));
  await outbox.ack(dest, entries.map((e) => e.id));
}
