import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/**
 * A small disk that can be filled: a tmpfs mounted in this process's own mount namespace, so nothing is mounted on
 * the machine itself and the mount vanishes with the soak. The soak's entry script re-runs itself under
 * `unshare -m` (root only) and marks that with ESPLAB_SOAK_NAMESPACE=1; SQLite must see the disk at its real path
 * (it resolves symbolic links such as /proc/<pid>/root), so every process of the soak lives in that namespace.
 */
export interface ScratchDisk {
  dir: string;
  /** Fills the disk with a filler file until the kernel says ENOSPC. */
  fill(): void;
  /** Deletes the filler: the space is back. */
  free(): void;
  close(): void;
}

export const NAMESPACE_MARK = "ESPLAB_SOAK_NAMESPACE";

/** Why no disk can be filled here, or undefined when one can. */
export function scratchDiskProblem(): string | undefined {
  if (process.getuid?.() !== 0) return "filling a disk needs root (a tmpfs in a private mount namespace)";
  if (process.env[NAMESPACE_MARK] !== "1") return "the soak is not running in its own mount namespace (run it through bench/readings-soak.ts)";
  return undefined;
}

/** Whether this machine can give the soak a private mount namespace (root, and unshare(1) works). */
export function canUnshareMounts(): boolean {
  return process.getuid?.() === 0 && spawnSync("unshare", ["-m", "true"]).status === 0;
}

export function mountScratchDisk(dir: string, sizeBytes: number): ScratchDisk {
  fs.mkdirSync(dir, { recursive: true });
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${Math.ceil(sizeBytes / 1024)}k`, "esplab-soak", dir], { encoding: "utf8" });
  if (mounted.status !== 0) throw new Error(`could not mount a tmpfs on ${dir}: ${mounted.stderr.trim()}`);
  const filler = path.join(dir, "filler");
  return {
    dir,
    fill() {
      const fd = fs.openSync(filler, "a");
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      } finally {
        fs.closeSync(fd);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    close() {
      spawnSync("umount", ["-l", dir]);
    },
  };
}
