/**
 * The tests' one wait: polls `condition` (sync or async) every `pollMs` until it holds, and fails naming `what`
 * after `timeoutMs`. Tests wait on what they expect to happen, bounded in time, never on a fixed sleep.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
  pollMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
