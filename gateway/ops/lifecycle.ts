import type { HandlerTable } from '../context.js';

/** (being written) */
export const lifecycleHandlers: HandlerTable = {};
