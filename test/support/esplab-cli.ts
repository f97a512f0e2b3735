import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

export const ESPLAB_ROOT = path.resolve(import.meta.dirname, "../..");
/** The `esplab` command of this checkout. */
export const ESPLAB_CLI = path.join(ESPLAB_ROOT, "bin/esplab.js");

/** Runs `esplab ...args` to the end; its exit code and everything it printed (stdout, then stderr). */
export async function esplab(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [ESPLAB_CLI, ...args], { cwd: ESPLAB_ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}
