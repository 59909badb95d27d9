/**
 * The merge lives beside the records it decides about (metadata/merge.ts), because local
 * writes follow it too; replication reads it from here.
 */
export * from '../metadata/merge.js';
