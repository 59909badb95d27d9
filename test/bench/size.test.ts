import { describe, expect, it } from 'vitest';
import { formatSize, parseDuration, parseSize } from '../../bench/size.js';

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['4096', 4096],
    ['1KiB', 1024],
    ['1 KiB', 1024],
    ['1kib', 1024],
    ['1K', 1024],
    ['1KB', 1000],
    ['64MiB', 64 * 1024 ** 2],
    ['64M', 64 * 1024 ** 2],
    ['5MB', 5_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['1GB', 1e9],
    ['2TiB', 2 * 1024 ** 4],
    ['10B', 10],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'KiB', '-1KiB', '1 KiBs', '1XB', '0x10', '1e3', 'ten'])('%j is refused', (text) => {
    expect(() => parseSize(text)).toThrow(RangeError);
  });
});

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['500ms', 500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['3', 3000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', '10 sec', '-1s', '1d'])('%j is refused', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [1000, '1000 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [64 * 1024 ** 2, '64 MiB'],
    [1.25 * 1024 ** 3, '1.25 GiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });
});
