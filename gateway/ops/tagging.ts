import type { HandlerTable } from '../context.js';

/** (being written) */
export const taggingHandlers: HandlerTable = {};
