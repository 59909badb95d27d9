/**
 * The driver `erne machines serve --driver …` asks for, made from its settings, through the
 * registry (index.ts): the process driver keeps its files under DATA_DIR/driver, the microvm
 * driver its records under DATA_DIR/driver-microvm (images in ~/.cache/erne/microvm); the fly
 * driver needs an endpoint, a token and an app. A missing setting is one line for the operator.
 */
import { openDriver as openByName, type DriverSettings as CommonSettings, type OpenedDriver } from './index.js';

export { DriverSettingsError } from './index.js';

export interface DriverSettings extends CommonSettings {
  kind: string;
}

export function openDriver(s: DriverSettings): OpenedDriver {
  return openByName(s.kind, s);
}
