/** Polls `condition` every 20 ms; rejects naming `what` if it is still false after `timeoutMs`. */
export async function until(condition: () => boolean, what = "the condition", timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited >= timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
