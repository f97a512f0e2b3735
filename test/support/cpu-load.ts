import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";

/** Busy loops in child processes, one per core, so that every core is saturated until stop() is called. */
export function saturateCores(count = os.availableParallelism()): { stop(): Promise<void> } {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) children.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
  return {
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGKILL");
            }),
        ),
      );
    },
  };
}
