import { open, type Database } from 'lmdb';

/** One place that knows how Erne opens its LMDB environment (main thread and commit thread). */
export function openLmdbDatabase(path: string, mapSizeBytes?: number): Database<Buffer, Buffer> {
  return open<Buffer, Buffer>({
    path,
    keyEncoding: 'binary',
    encoding: 'binary',
    // 8 KiB pages raise LMDB's key limit from 1978 to 4026 bytes (S3 keys are up to 1 KiB)
    pageSize: 8192,
    noMemInit: true,
    ...(mapSizeBytes ? { mapSize: mapSizeBytes } : {}),
  });
}
