import type { Workload } from '../workload.js';
import { get } from './get.js';
import { list } from './list.js';
import { mixed } from './mixed.js';
import { multipart } from './multipart.js';
import { put } from './put.js';
import { ycsb } from './ycsb.js';

/** every workload by name; a new one is added here */
export const WORKLOADS: Record<string, Workload> = Object.fromEntries([put, get, mixed, list, multipart, ycsb].map((w) => [w.name, w]));
