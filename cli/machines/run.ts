/** `erne machines <command>`: one entry for cli/erne.ts, loaded only when a machines command runs. */
import type { FlagValues } from '../args.js';
import { machinesDestroy, machinesList, machinesLogs, machinesRestart, machinesStart, machinesStatus, machinesStop } from './client-commands.js';
import { machinesScale } from './scale.js';
import { machinesServe, type ServeDeps } from './serve.js';

export async function machinesCommand(command: string, flags: FlagValues, positionals: string[], deps: ServeDeps & { env: Record<string, string | undefined> }): Promise<void> {
  const id = positionals[0]!;
  switch (command) {
    case 'machines serve':
      return machinesServe(flags, deps);
    case 'machines list':
      return machinesList(flags, deps);
    case 'machines status':
      return machinesStatus(flags, id, deps);
    case 'machines scale':
      return machinesScale(flags, deps, deps.env);
    case 'machines start':
      return machinesStart(flags, id, deps);
    case 'machines stop':
      return machinesStop(flags, id, deps);
    case 'machines restart':
      return machinesRestart(flags, id, deps);
    case 'machines destroy':
      return machinesDestroy(flags, id, deps);
    case 'machines logs':
      return machinesLogs(flags, id, deps);
  }
  throw new Error(`unknown machines command ${command}`);
}
