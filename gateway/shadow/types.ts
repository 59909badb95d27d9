/**
 * Shadow buckets (migration from another S3, as Tigris offers it): a bucket may name a source
 * bucket on another S3 server. Reads that miss here are served from the source and copied in;
 * with write-through, writes and deletes reach the source too; listings merge both; a migration
 * copies the rest over in the background. Both documents are bucket configs (metadata/
 * bucket-config.ts), so they replicate like every other bucket setting — the source's secret
 * included: it is stored in the metadata, readable by whoever can read the metadata.
 */

/** bucket config kind: the shadow source (ShadowConfig) */
export const SHADOW_KIND = 'shadow';
/** bucket config kind: the state of the bucket's migration (MigrationState) */
export const MIGRATION_KIND = 'shadow-migration';

export interface ShadowConfig {
  /** the source S3 endpoint, e.g. https://s3.us-east-1.amazonaws.com (path-style requests) */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** SigV4 region the source expects (default us-east-1) */
  region: string;
  /** PUTs and DELETEs also go to the source once stored here */
  writeThrough: boolean;
}

/** what the admin API takes to set a shadow (region and writeThrough optional) */
export type ShadowInput = Omit<ShadowConfig, 'region' | 'writeThrough'> & { region?: string; writeThrough?: boolean };

/** the shadow as shown: never its secret */
export type ShadowInfo = Omit<ShadowConfig, 'secretAccessKey'>;

export interface MigrationState {
  state: 'running' | 'done' | 'failed';
  /** the region whose gateway runs it (and resumes it after a restart) */
  region: string;
  /** the last source key handled: a resumed migration lists after it */
  cursor?: string;
  /** objects copied in by the migration */
  copied: number;
  /** objects already here (read through, written, or copied before a crash) */
  skipped: number;
  /** objects the source held when the migration counted them (absent while counting) */
  total?: number;
  startedAt: number;
  finishedAt?: number;
  error?: string;
}

export function shadowInfo(c: ShadowConfig): ShadowInfo {
  const { secretAccessKey: _secret, ...rest } = c;
  return rest;
}
