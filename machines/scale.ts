/**
 * `erne machines scale`: brings an app to `count` machines in each region asked for, through
 * the Machines API (so it works against any scheduler speaking it). New machines are made by
 * `configFor` (a copy of an existing machine's config, or a gateway's); surplus machines, the
 * newest first, are destroyed. Regions not named are left as they are.
 */
import type { Machine, MachineConfig } from './api/types.js';
import type { MachinesClient } from './client.js';

export interface ScalePlan {
  app: string;
  count: number;
  regions: string[];
  /** the config of the next machine of `region`, knowing the machines that live there now */
  configFor(region: string, live: Machine[]): Promise<MachineConfig> | MachineConfig;
}

export interface ScaleResult {
  created: Machine[];
  destroyed: Machine[];
}

const GONE = new Set(['destroying', 'destroyed']);

export async function scale(client: MachinesClient, plan: ScalePlan): Promise<ScaleResult> {
  await client.ensureApp(plan.app);
  const result: ScaleResult = { created: [], destroyed: [] };
  for (const region of plan.regions) {
    const live = (await client.list(plan.app, region)).filter((m) => !GONE.has(m.state));
    while (live.length < plan.count) {
      const config = await plan.configFor(region, live);
      const m = await client.create(plan.app, { region, config });
      live.push(m);
      result.created.push(m);
    }
    const surplus = live.sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, Math.max(0, live.length - plan.count));
    for (const m of surplus) {
      await client.destroy(plan.app, m.id, true);
      result.destroyed.push(m);
    }
  }
  return result;
}
