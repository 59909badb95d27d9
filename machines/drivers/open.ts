/**
 * The driver `erne machines serve --driver …` asks for, made from its settings: the process
 * driver keeps its files under DATA_DIR/driver, the microvm driver its records under
 * DATA_DIR/driver-microvm (images in ~/.cache/erne/microvm); the fly driver needs an endpoint, a token
 * and an app. A missing setting is one line for the operator.
 */
import { join } from 'node:path';
import { FlyDriver } from './fly/driver.js';
import { MicroVmDriver } from './microvm/driver.js';
import { ProcessDriver } from './process/index.js';
import type { NetworkChoice } from './process/network.js';
import type { MachineDriver } from './types.js';

export interface DriverSettings {
  kind: string;
  dataDir: string;
  network?: NetworkChoice;
  fly?: { endpoint?: string; token?: string; app?: string; image?: string };
}

export class DriverSettingsError extends Error {
  override readonly name = 'DriverSettingsError';
}

export function openDriver(s: DriverSettings): MachineDriver & { close?(): Promise<void> } {
  switch (s.kind) {
    case 'process':
      return new ProcessDriver({ root: join(s.dataDir, 'driver'), network: s.network ?? 'loopback' });
    case 'microvm':
      return new MicroVmDriver({ stateDir: join(s.dataDir, 'driver-microvm') });
    case 'fly': {
      const f = s.fly ?? {};
      if (!f.endpoint) throw new DriverSettingsError('the fly driver needs --fly-endpoint (or FLY_API_HOSTNAME)');
      if (!f.token) throw new DriverSettingsError('the fly driver needs --fly-token (or FLY_API_TOKEN)');
      if (!f.app) throw new DriverSettingsError('the fly driver needs --fly-app (the app its machines are made in)');
      return new FlyDriver({ endpoint: f.endpoint, token: f.token, app: f.app, image: f.image });
    }
    default:
      throw new DriverSettingsError(`--driver: process, microvm or fly, not ${JSON.stringify(s.kind)}`);
  }
}
