import type { HandlerTable } from '../context.js';

/** (being written) */
export const postObjectHandlers: HandlerTable = {};
