import type { KvTransaction } from './kv.js';

/**
 * Called in the transaction that drops a version whose bytes are a completed multipart
 * upload's parts. It must stay bounded (an upload may have 10,000 parts): it queues the
 * upload for the janitor, which releases the parts' blobs in bounded batches.
 * The multipart layer (metadata/multipart.ts) owns the layout it writes.
 */
export async function releaseParts(tx: KvTransaction, uploadId: string): Promise<void> {
  void tx;
  void uploadId;
  throw new Error('multipart bodies are not released yet');
}
