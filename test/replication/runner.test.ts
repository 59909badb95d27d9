/**
 * The relay runner with a stand-in relay: a kick passes at once, never two passes at a time,
 * a kick during a pass runs one more after it, stop waits for the pass in progress and
 * nothing runs after; OutageLog says one line per outage, however many failures.
 */
import { describe, expect, it } from 'vitest';
import { OutageLog, RelayRunner } from '../../replication/runner.js';
import { waitFor } from '../helpers/wait.js';

class StandInRelay {
  passes = 0;
  running = 0;
  maxRunning = 0;
  fail: Error | undefined;
  private release: (() => void) | undefined;
  hold = false;

  async pass(): Promise<number> {
    this.passes++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.hold) await new Promise<void>((r) => (this.release = r));
      if (this.fail) throw this.fail;
      return 0;
    } finally {
      this.running--;
    }
  }

  let(): void {
    this.hold = false;
    this.release?.();
  }
}

describe('RelayRunner', () => {
  it('passes at start, and at once on a kick (not at its minute-long interval)', async () => {
    const relay = new StandInRelay();
    const runner = new RelayRunner(relay, { intervalMs: 60_000 });
    runner.start();
    await waitFor('the first pass', () => relay.passes === 1);
    runner.kick();
    await waitFor('the kicked pass', () => relay.passes === 2);
    await runner.stop();
  });

  it('never runs two passes at a time; kicks during a pass make one more pass after it', async () => {
    const relay = new StandInRelay();
    relay.hold = true;
    const runner = new RelayRunner(relay, { intervalMs: 60_000 });
    runner.start();
    await waitFor('a pass running', () => relay.running === 1);
    for (let i = 0; i < 50; i++) runner.kick();
    relay.let();
    await waitFor('the pass after the kicks', () => relay.passes === 2 && relay.running === 0);
    expect(relay.maxRunning).toBe(1);
    await runner.stop();
  });

  it('stop waits for the pass in progress, and no pass runs after it', async () => {
    const relay = new StandInRelay();
    relay.hold = true;
    const runner = new RelayRunner(relay, { intervalMs: 1 });
    runner.start();
    await waitFor('a pass running', () => relay.running === 1);
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    runner.kick();
    expect(stopped).toBe(false);
    relay.let();
    await stopping;
    const after = relay.passes;
    runner.kick();
    await new Promise((r) => setImmediate(r));
    expect(relay.passes).toBe(after);
  });

  it('failing passes are retried at the interval, each reported; one outage is one line', async () => {
    const relay = new StandInRelay();
    relay.fail = new Error('ECONNREFUSED');
    const lines: string[] = [];
    const outage = new OutageLog((l) => lines.push(l), { down: (e) => `down: ${e.message}`, up: 'up' });
    let failures = 0;
    const runner = new RelayRunner(relay, {
      intervalMs: 5,
      onPass: (err) => {
        if (err) {
          failures++;
          outage.failed(err);
        } else outage.worked();
      },
    });
    runner.start();
    await waitFor('ten failed passes', () => failures >= 10);
    relay.fail = undefined;
    await waitFor('a pass that works', () => lines.includes('up'));
    relay.fail = new Error('again');
    await waitFor('a second outage', () => lines.length === 3);
    await runner.stop();
    expect(lines).toEqual(['down: ECONNREFUSED', 'up', 'down: again']);
  });
});
