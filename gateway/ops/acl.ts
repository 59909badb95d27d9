import type { HandlerTable } from '../context.js';

/** (being written) */
export const aclHandlers: HandlerTable = {};
