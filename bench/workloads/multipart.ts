import type { Workload } from '../workload.js';

/**
 * Multipart uploads of --size objects in --part-size parts, parts of one upload sent one
 * after another (concurrency comes from the slots). A target without multipart answers
 * CreateMultipartUpload with an error, reported by code (e.g. NotImplemented).
 */
export const multipart: Workload = {
  name: 'multipart',
  summary: 'multipart PUT of --size objects in --part-size parts',
  defaultKeys: () => 0,
  async prepare({ client, config }) {
    await client.createBucket(config.bucket);
  },
  async start({ client, config, proc }) {
    const run = `${Date.now().toString(36)}-${process.pid}`;
    let n = 0;
    return async (slot) => {
      n += 1;
      await client.multipartPut(config.bucket, `mpu/${run}/${proc}-${slot}-${n}`, config.size, config.partSize);
      return { op: 'MPU', bytes: config.size };
    };
  },
};
