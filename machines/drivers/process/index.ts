/**
 * The process driver (see driver.ts). On disk, under the root it is given:
 *
 *   index/<machineId>.json    where each machine's workDir is (launch/state/exit records, log)
 *   network.json              the regions' namespaces (netns mode)
 *   links/<name>.json         the links between regions, each a process of its own
 *   regions/<region>/cluster.json   netns: a gateway machine's cluster file as its region sees
 *                             it (gateway-view.ts), rewritten at each start
 *
 * Machines, their supervisors and links outlive the driver (and the scheduler holding it); a
 * driver made on the same root finds them. Destroying a region's last machine removes the
 * region's links and namespace; destroyAll() removes all of it.
 */
export { ProcessDriver, MachineNotFoundError, type ProcessDriverOptions } from './driver.js';
export { RegionNetwork, netnsUnavailable, type NetworkChoice, type Placement } from './network.js';
export { parseLogLine, type LogLine } from './log-file.js';
export { RegionLinks, type LinkInfo, type LinkSpec } from './links.js';
