/**
 * The faults a run injects while clients write: two regions cut off from each other, one cut
 * off from all, a region's process down for a while or restarted at once (everything in its
 * memory lost), its Redis restarted empty or down for a while. Each ends by itself; `heal`
 * ends them all (the network stays slow, but loses and duplicates nothing any more).
 */
import { loseMessages } from './repair.js';
import { REGIONS, type World } from './world.js';

export function injectFault(w: World): void {
  const { rng, sched, net, log } = w;
  const kind = rng.int(0, 5);
  const r = rng.pick(REGIONS);
  const region = w.regions.get(r)!;
  if (w.mode === 'lose' && rng.chance(0.4)) return void loseMessages(w, r);
  const until = rng.int(10, 700);
  if (kind === 0) {
    const other = rng.pick(REGIONS.filter((x) => x !== r));
    log(`fault: ${r} and ${other} cut off from each other for ${until} ms`);
    net.partition(r, other);
    sched.after(until, () => net.heal(r, other));
  } else if (kind === 1) {
    // cut off, and (half the time) its process restarted as well: it then writes for a while
    // with a fresh clock that has heard from nobody
    const restart = region.up && rng.chance(0.5);
    log(`fault: ${r} cut off from every region for ${until} ms${restart ? ', its process restarted' : ''}`);
    for (const o of REGIONS) if (o !== r) net.partition(r, o);
    sched.after(until, () => REGIONS.forEach((o) => o !== r && net.heal(r, o)));
    if (restart) {
      region.crash();
      sched.after(rng.int(1, 10), () => start(w, r));
    }
  } else if (kind === 2 || kind === 5) {
    if (!region.up) return;
    const down = kind === 2 ? until : rng.int(1, 10);
    log(`fault: ${r} crashes for ${down} ms`);
    region.crash();
    sched.after(down, () => start(w, r));
  } else if (kind === 3) {
    if (!region.proc) return;
    log(`fault: ${r}'s Redis restarts empty`);
    region.proc.redis.flush();
  } else {
    const redis = region.proc?.redis;
    if (!redis) return;
    log(`fault: ${r}'s Redis down for ${until} ms`);
    redis.down = true;
    sched.after(until, () => redis.up());
  }
}

export function heal(w: World): void {
  w.log('faults stop: the network heals, every region runs');
  w.net.faults = { ...w.net.faults, drop: 0, dup: 0 };
  w.net.heal();
  for (const name of REGIONS) {
    start(w, name);
    w.regions.get(name)!.proc!.redis.up();
  }
}

function start(w: World, name: string): void {
  const region = w.regions.get(name)!;
  if (region.up) return;
  w.log(`${name} starts`);
  region.start();
}
