import type { FlagValues } from './args.js';

/** single-quotes a value for a POSIX shell when it needs it, so printed commands paste as-is */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:+=@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ServeDeps {
  out: (s: string) => void;
  env: Record<string, string | undefined>;
  /** called once the gateway is closed after a signal; the real CLI exits here */
  exit: (code: number) => void;
}

export async function serve(flags: FlagValues, deps: ServeDeps): Promise<void> {
  // loaded lazily: `erne keys …` and --help should not pay for the HTTP stack
  const { startGateway } = await import('../gateway/server.js');
  const region = String(flags['region']);
  const gw = await startGateway({
    host: String(flags['host']),
    port: Number(flags['port']),
    dataDir: String(flags['data-dir']),
    region,
    domain: flags['domain'] as string | undefined,
    nodeId: flags['node-id'] as string | undefined,
    inlineThreshold: flags['inline-threshold'] as number | undefined,
    rootAccessKey: deps.env['ERNE_ROOT_ACCESS_KEY'] || undefined,
    rootSecretKey: deps.env['ERNE_ROOT_SECRET_KEY'] || undefined,
    log: (line: string) => deps.out(line + '\n'),
  });
  const { accessKeyId, secretAccessKey } = gw.root;
  deps.out(
    [
      `Erne is serving S3 at ${gw.url}`,
      `  region:            ${region}`,
      `  access key id:     ${accessKeyId}`,
      `  secret access key: ${secretAccessKey}`,
      `Try: AWS_ACCESS_KEY_ID=${shellQuote(accessKeyId)} AWS_SECRET_ACCESS_KEY=${shellQuote(secretAccessKey)} ` +
        `aws --endpoint-url ${gw.url} --region ${shellQuote(region)} s3 ls`,
      '',
    ].join('\n'),
  );

  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // a second signal means "now": do not wait for connections to drain
      deps.exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    closing = true;
    deps.out(`${signal}: closing\n`);
    gw.close().then(
      () => deps.exit(0),
      (err: unknown) => {
        process.stderr.write(`erne: error while closing: ${(err as Error).message}\n`);
        deps.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
