/**
 * The HTTP PeerPort against stand-in regions on loopback: a batch arrives signed and intact;
 * a URL that cannot be reached or answers 5xx is skipped for the region's next one; any
 * answer but 204 is a failure (so the job is retried), and a 4xx is not retried elsewhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HttpPeer, PeerError } from '../../replication/http-peer.js';
import { freePort } from '../helpers/child.js';
import { testTopology, versionChange } from '../helpers/cluster.js';
import { startFakeRegion, type FakeRegion } from '../helpers/fake-region.js';

const started: FakeRegion[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.close();
});

async function region(): Promise<FakeRegion> {
  const r = await startFakeRegion();
  started.push(r);
  return r;
}

const change = (key: string) => versionChange('photos', 1, key, `bytes of ${key}`, 'iad');

describe('HttpPeer', () => {
  it('POSTs the batch signed as this region; the region receives it intact', async () => {
    const fra = await region();
    const peer = new HttpPeer(testTopology('iad', { iad: ['http://127.0.0.1:1'], fra: [fra.url] }));
    const batch = [change('a'), change('b')];
    await peer.send('fra', batch);
    expect(fra.received).toEqual(batch);
    peer.close();
  });

  it('skips a URL that cannot be reached, and one that answers 5xx, for the next', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const broken = await region();
    broken.answer = 503;
    const good = await region();
    const peer = new HttpPeer(testTopology('iad', { iad: ['http://127.0.0.1:1'], fra: [dead, broken.url, good.url] }));
    await peer.send('fra', [change('c')]);
    expect(broken.requests).toBe(1);
    expect(good.received).toHaveLength(1);
    // the URL that answered is tried first next time
    await peer.send('fra', [change('d')]);
    expect(broken.requests).toBe(1);
    expect(good.received).toHaveLength(2);
    peer.close();
  });

  it('anything but 204 fails the send: 409 at once (the region answered), unreachable naming every URL', async () => {
    const busy = await region();
    busy.answer = 409;
    const other = await region();
    const peer = new HttpPeer(testTopology('iad', { iad: ['http://127.0.0.1:1'], fra: [busy.url, other.url] }));
    const err = await peer.send('fra', [change('e')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerError);
    expect((err as PeerError).status).toBe(409);
    expect(other.requests).toBe(0);

    const dead = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
    const lonely = new HttpPeer(testTopology('iad', { iad: ['http://127.0.0.1:1'], fra: dead }));
    const down = await lonely.send('fra', [change('f')]).catch((e: unknown) => e);
    expect((down as Error).message).toMatch(new RegExp(`region fra could not be reached: ${dead[0]}: .*; ${dead[1]}: `));
    peer.close();
    lonely.close();
  });
});
