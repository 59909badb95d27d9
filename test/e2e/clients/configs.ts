/**
 * How the CLI client suites (clients/*.test.ts over plain HTTP, tls.test.ts over HTTPS) point
 * s3cmd and rclone at a gateway: path style, SigV4 (s3cmd: SigV2 when asked), the root keys,
 * the test region. Over HTTPS the client trusts only the given CA.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGION, ROOT } from '../../helpers/gateway.js';
import { cleanEnv } from './support.js';

/** Writes an s3cmd config file to `path` for the gateway (or proxy) at `url`. */
export function writeS3cmdConfig(path: string, url: string, opts: { multipartChunkMiB: number; caFile?: string; signatureV2?: boolean }): void {
  const { host, protocol } = new URL(url);
  const tls = protocol === 'https:';
  if (tls && !opts.caFile) throw new Error(`s3cmd over ${url} needs the CA file to trust`);
  writeFileSync(
    path,
    [
      '[default]',
      `access_key = ${ROOT.accessKeyId}`,
      `secret_key = ${ROOT.secretAccessKey}`,
      // without %(bucket)s in host_bucket, s3cmd uses path-style requests
      `host_base = ${host}`,
      `host_bucket = ${host}`,
      `bucket_location = ${REGION}`,
      ...(tls
        ? ['use_https = True', `ca_certs_file = ${opts.caFile}`, 'check_ssl_certificate = True', 'check_ssl_hostname = True']
        : ['use_https = False', 'check_ssl_certificate = False']),
      `signature_v2 = ${opts.signatureV2 ? 'True' : 'False'}`,
      `multipart_chunk_size_mb = ${opts.multipartChunkMiB}`,
      'progress_meter = False',
      '',
    ].join('\n'),
  );
}

/**
 * The environment that defines rclone's remote `erne:` for the gateway (or proxy) at `url`
 * (provider Other, path style). rclone reads `dir`/rclone.conf, written empty here, so no user
 * config can leak in; over HTTPS pass rclone `--ca-cert`.
 */
export function rcloneEnv(dir: string, url: string): NodeJS.ProcessEnv {
  const conf = join(dir, 'rclone.conf');
  writeFileSync(conf, '');
  return cleanEnv({
    RCLONE_CONFIG: conf,
    RCLONE_CONFIG_ERNE_TYPE: 's3',
    RCLONE_CONFIG_ERNE_PROVIDER: 'Other',
    RCLONE_CONFIG_ERNE_ENDPOINT: url,
    RCLONE_CONFIG_ERNE_ACCESS_KEY_ID: ROOT.accessKeyId,
    RCLONE_CONFIG_ERNE_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
    RCLONE_CONFIG_ERNE_FORCE_PATH_STYLE: 'true',
    RCLONE_CONFIG_ERNE_REGION: REGION,
  });
}
