export { ProcessDriver, MachineNotFoundError, type ProcessDriverOptions } from './driver.js';
export { RegionNetwork, netnsUnavailable, type NetworkChoice, type Placement } from './network.js';
export { parseLogLine, type LogLine } from './log-file.js';
