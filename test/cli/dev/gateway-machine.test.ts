/**
 * The config of an `erne dev` gateway machine, for a driver whose machines see the host's
 * files (process) and for one whose machines do not (a VM, as the microvm driver's are): where
 * the data lives, which addresses the gateway is given, and how the cluster document reaches
 * it. The VM's shell step is run for real here (with /bin/sh), as the guest runs it.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LocalMachines } from '../../../machines/drivers/index.js';
import { CLUSTER_DOC_ENV, devGatewayConfig } from '../../../cli/dev/gateway-machine.js';
import type { ClusterFileDoc } from '../../../cli/dev/cluster-file.js';
import type { GatewayPlan } from '../../../cli/dev/gateway.js';

const plan: GatewayPlan = {
  region: 'fra',
  port: 9101,
  dataDir: '/srv/erne-dev/fra',
  clusterFile: '/srv/erne-dev/cluster.json',
  redisUrl: 'redis://127.0.0.1:6391',
  creds: { accessKeyId: 'EKAAAAAAAAAAAAAAAAAA', secretAccessKey: 's'.repeat(40), clusterSecret: 'c'.repeat(43) },
  verbose: false,
  env: {},
};
const cluster: ClusterFileDoc = {
  control: 'iad',
  regions: [
    { name: 'iad', internal: ['http://127.0.0.1:9200'] },
    { name: 'fra', internal: ['http://127.0.0.1:9201'] },
  ],
};
const PROCESS: LocalMachines = { hostAddress: '127.0.0.1', listenHost: '127.0.0.1', hostFiles: true };
const VM: LocalMachines = { hostAddress: '10.0.2.2', listenHost: '0.0.0.0', hostFiles: false, checkGracePeriod: '120s' };

describe('devGatewayConfig', () => {
  it('a process sees the host: data and metadata where erne dev keeps them, the cluster file by its path', () => {
    const c = devGatewayConfig(plan, PROCESS, cluster);
    const argv = c.init!.exec!;
    expect(argv.slice(1, 3).join(' ')).toMatch(/cli\/erne\.js serve$/);
    expect(argv.join(' ')).toContain('serve --host 127.0.0.1 --port 9101 --region fra --cluster /srv/erne-dev/cluster.json --log-level warn');
    expect(c.env).toMatchObject({
      ERNE_DATA_DIR: '/srv/erne-dev/fra',
      ERNE_METADATA_DIR: '/srv/erne-dev/fra/meta',
      ERNE_REDIS_URL: 'redis://127.0.0.1:6391',
      ERNE_INTERNAL_URL: 'http://127.0.0.1:9101',
      ERNE_ROOT_ACCESS_KEY: plan.creds.accessKeyId,
      ERNE_CLUSTER_SECRET: plan.creds.clusterSecret,
    });
    expect(c.env![CLUSTER_DOC_ENV]).toBeUndefined();
    expect(c.restart?.policy).toBe('always');
    expect(c.services?.[0]?.internal_port).toBe(9101);
  });

  it('a VM: data on its volume, the host at its own address, the cluster document in its environment', () => {
    const c = devGatewayConfig({ ...plan, verbose: true }, VM, cluster);
    expect(c.init!.exec!.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(c.init!.exec!.join(' ')).toContain('serve --host 0.0.0.0 --port 9101 --region fra --log-level info');
    expect(c.init!.exec!.join(' ')).not.toContain('/srv/erne-dev/cluster.json');
    expect(c.env!['ERNE_DATA_DIR']).toBeUndefined();
    expect(c.env!['ERNE_METADATA_DIR']).toBeUndefined();
    expect(c.env!['ERNE_REDIS_URL']).toBe('redis://10.0.2.2:6391');
    expect(c.env!['ERNE_INTERNAL_URL']).toBe('http://10.0.2.2:9101');
    expect(JSON.parse(c.env![CLUSTER_DOC_ENV]!)).toEqual({
      control: 'iad',
      regions: [
        { name: 'iad', internal: ['http://10.0.2.2:9200'] },
        { name: 'fra', internal: ['http://10.0.2.2:9201'] },
      ],
    });
    expect(c.mounts?.length).toBe(1);
    // its boot fits in the health check's grace period
    expect(c.checks?.['health']?.grace_period).toBe('120s');
    expect(devGatewayConfig(plan, PROCESS, cluster).checks?.['health']?.grace_period).toBe('10s');
  });

  it("the VM's shell step writes the document to a file of its machine and hands the gateway that file", async () => {
    const c = devGatewayConfig(plan, VM, cluster);
    const argv = c.init!.exec!;
    // the gateway replaced by a program that prints its arguments and the file they name
    const program = [process.execPath, '-e', 'const f = process.argv.at(-1); console.log(JSON.stringify({ args: process.argv.slice(1), doc: require("fs").readFileSync(f, "utf8") }))', '--'];
    const shell = [...argv.slice(0, argv.indexOf('sh') + 1), ...program];
    const machineId = `test${process.pid}`;
    const file = `/tmp/erne-cluster-${machineId}.json`;
    try {
      const out = await new Promise<string>((resolve, reject) =>
        execFile(shell[0]!, shell.slice(1), { env: { PATH: process.env.PATH, FLY_MACHINE_ID: machineId, [CLUSTER_DOC_ENV]: c.env![CLUSTER_DOC_ENV] } }, (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))),
      );
      const seen = JSON.parse(out) as { args: string[]; doc: string };
      expect(seen.args.slice(-2)).toEqual(['--cluster', file]);
      expect(JSON.parse(seen.doc)).toEqual(JSON.parse(c.env![CLUSTER_DOC_ENV]!));
    } finally {
      rmSync(file, { force: true });
    }
    expect(existsSync(file)).toBe(false);
  });
});
