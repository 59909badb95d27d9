/**
 * Waiting for what a test asserts instead of sleeping a fixed time: `check` is polled until
 * it returns something truthy (which is returned), or the deadline passes and the test fails
 * naming what it waited for and what it last saw.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; last saw ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
