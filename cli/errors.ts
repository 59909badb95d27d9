/** An operator's mistake or a refusal meant for people: printed as one line, exit code 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}
