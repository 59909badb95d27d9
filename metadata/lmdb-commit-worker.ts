/**
 * The LMDB commit thread: takes batches of commit requests from the main thread and runs each
 * batch in one write transaction. The fsync at the end of a write transaction then blocks
 * this thread, not the event loop that serves requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openLmdbDatabase } from './lmdb-open.js';
import { commitBatch, type CommitRequest } from './lmdb-apply.js';

const { path, mapSizeBytes } = workerData as { path: string; mapSizeBytes?: number };
const db = openLmdbDatabase(path, mapSizeBytes);

parentPort!.on('message', (msg: { id: number; batch: CommitRequest[] }) => {
  parentPort!.postMessage({ id: msg.id, outcomes: commitBatch(db, msg.batch) });
});
