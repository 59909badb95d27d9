/** What one run of a machine is made of: forwards, environment, status facts (pure). */
import { describe, expect, it } from 'vitest';
import { launchRecord } from '../../machines/drivers/process/launch-record.js';
import type { Placement } from '../../machines/drivers/process/network.js';
import type { LaunchSpec, PortMapping } from '../../machines/drivers/types.js';

const loopback: Placement = { wrap: (a) => a, machineHost: '127.0.0.1', hostAddress: '127.0.0.1', detail: { network: 'loopback' } };
const netns: Placement = { wrap: (a) => ['ip', 'netns', 'exec', 'erne-iad', ...a], machineHost: '10.77.3.2', hostAddress: '10.77.3.1', detail: { network: 'netns' } };
const run = { publishHost: '127.0.0.1', baseEnv: { PATH: '/usr/bin', HOME: '/root' } };

function spec(ports: PortMapping[], env: Record<string, string> = {}): LaunchSpec {
  return { machineId: 'm1', instanceId: 'v2', app: 'app', region: 'iad', argv: ['erne', 'serve'], env, volumeDir: '/v/m1', workDir: '/w/m1', ports, guest: { cpus: 2, memoryMb: 512 } };
}

describe('launchRecord', () => {
  it.each([
    ['loopback, published as itself: the program listens itself', loopback, { internal: 9000, host: 9000 }, []],
    ['loopback, another host port: forwarded', loopback, { internal: 9000, host: 19000 }, [{ listenHost: '127.0.0.1', listenPort: 19000, targetHost: '127.0.0.1', targetPort: 9000 }]],
    ['netns, same number: forwarded into the region', netns, { internal: 9000, host: 9000 }, [{ listenHost: '127.0.0.1', listenPort: 9000, targetHost: '10.77.3.2', targetPort: 9000 }]],
  ] as const)('%s', (_, place, port, forwards) => {
    const r = launchRecord(spec([{ ...port, protocol: 'tcp' }]), 'run', place, run);
    expect(r.forwards).toEqual(forwards);
  });

  it('notes a udp port it cannot publish, wraps argv for the region, runs in the volume', () => {
    const r = launchRecord(spec([{ internal: 53, host: 53, protocol: 'udp' }]), 'run-1', netns, run);
    expect(r.forwards).toEqual([]);
    expect(r.detail.port_53_udp).toMatch(/not published/);
    expect(r.argv).toEqual(['ip', 'netns', 'exec', 'erne-iad', 'erne', 'serve']);
    expect(r.cwd).toBe('/v/m1');
    expect(r.detail.guest).toBe('cpus=2 memory_mb=512 (not enforced)');
  });

  it("the environment: the base, Fly's variables, then the machine's own (which win)", () => {
    const r = launchRecord(spec([], { FLY_REGION: 'override', APP: 'x' }), 'run', netns, run);
    expect(r.env).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      FLY_MACHINE_ID: 'm1',
      FLY_ALLOC_ID: 'm1',
      FLY_APP_NAME: 'app',
      FLY_REGION: 'override',
      FLY_MACHINE_VERSION: 'v2',
      FLY_PRIVATE_IP: '10.77.3.2',
      FLY_VM_MEMORY_MB: '512',
      APP: 'x',
    });
  });
});
