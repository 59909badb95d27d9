import type { HandlerTable } from '../context.js';

/** (being written) */
export const corsHandlers: HandlerTable = {};
