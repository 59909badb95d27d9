/**
 * The process driver (see driver.ts). On disk, under the root it is given:
 *
 *   index/<machineId>.json    where each machine's workDir is (launch/state/exit records, log)
 *   network.json              the regions' namespaces (netns mode)
 *   links/<name>.json         the links between regions, each a process of its own
 *
 * Machines, their supervisors and links outlive the driver (and the scheduler holding it); a
 * driver made on the same root finds them. destroyAll() removes all of it.
 */
export { ProcessDriver, MachineNotFoundError, type ProcessDriverOptions } from './driver.js';
export { RegionNetwork, netnsUnavailable, type NetworkChoice, type Placement } from './network.js';
export { parseLogLine, type LogLine } from './log-file.js';
export { RegionLinks, type LinkInfo, type LinkSpec } from './links.js';
