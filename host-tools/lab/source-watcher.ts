import fs from "node:fs";

/**
 * Calls `onChange` once a burst of edits to `.ts` files under `directory` has settled (editors write a file several
 * times per save). Calls never overlap: a change during a reload queues one more reload. Returns a stop function.
 */
export function watchSources(directory: string, onChange: () => Promise<void>, debounceMs = 300): () => void {
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  let stopped = false;
  const watcher = fs.watch(directory, { recursive: true }, (_event, file) => {
    if (!file || !file.endsWith(".ts")) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(() => (stopped ? undefined : onChange()));
    }, debounceMs);
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
    watcher.close();
  };
}
