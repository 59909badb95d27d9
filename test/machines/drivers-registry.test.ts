/**
 * The registry of machine drivers (machines/drivers/index.ts): the names offered, in order;
 * a wrong name refused in one line naming the choices; which drivers run machines on this
 * host (erne dev's choices) and how such a machine sees the host; a driver made by name.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DRIVERS, DriverSettingsError, driverChoices, driverEntry, localDrivers, openDriver } from '../../machines/drivers/index.js';
import { tempDir } from '../helpers/gateway.js';

const dir = tempDir('erne-drivers-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('machine drivers by name', () => {
  it('offers process, microvm and fly, in that order', () => {
    expect([...DRIVERS.keys()]).toEqual(['process', 'microvm', 'fly']);
    expect(driverChoices()).toBe('process, microvm or fly');
    expect(driverChoices(localDrivers())).toBe('process or microvm');
  });

  it('refuses a name it does not know in one line naming the choices', () => {
    expect(() => driverEntry('docker')).toThrow(DriverSettingsError);
    expect(() => driverEntry('docker')).toThrow(/^--driver: process, microvm or fly, not "docker"$/);
  });

  it('says how a machine of each local driver reaches the host and where it listens', () => {
    expect(driverEntry('process').local).toMatchObject({ hostAddress: '127.0.0.1', listenHost: '127.0.0.1', hostFiles: true });
    expect(driverEntry('microvm').local).toMatchObject({ hostAddress: '10.0.2.2', listenHost: '0.0.0.0', hostFiles: false });
    expect(driverEntry('fly').local).toBeUndefined();
  });

  it('makes a driver by name from the common settings; a missing setting is one line', () => {
    expect(openDriver('process', { dataDir: dir }).name).toBe('process');
    expect(() => openDriver('fly', { dataDir: dir, fly: { endpoint: 'http://127.0.0.1:1', token: 't' } })).toThrow(/^the fly driver needs --fly-app/);
  });
});
