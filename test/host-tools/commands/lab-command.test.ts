import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");

describe("esplab lab (what npm start runs)", () => {
  it("serves the lab with the board and the local cloud, and stops cleanly on a signal", async () => {
    // A state directory that does not exist yet, as on a fresh clone.
    const scratch = mkdtempSync(path.join(tmpdir(), "esplab-lab-"));
    const stateDir = path.join(scratch, "state");
    const child = spawn(process.execPath, [path.join(root, "bin/esplab.js"), "lab", "--port", "0", "--engine", "node", "--state", stateDir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /Lab page:\s+(http:\/\/127\.0\.0\.1:\d+\/?)/.exec(output);
          if (match) {
            clearInterval(timer);
            resolve(match[1]!);
          }
        }, 50);
        child.once("exit", (code) => {
          clearInterval(timer);
          reject(new Error(`esplab lab exited with ${code}: ${output}`));
        });
      });
      const state = (await (await fetch(new URL("/api/state", url))).json()) as { parts: Record<string, { type: string }>; engine: string };
      expect(state.engine).toBe("node");
      expect(Object.values(state.parts).map((part) => part.type)).toEqual(expect.arrayContaining(["lcd1602-i2c", "keypad-4x4", "servo-sg90"]));
      expect(output).toMatch(/MQTT broker\s+mqtt:\/\/127\.0\.0\.1:\d+/);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(output).toContain("stopping…");
    } finally {
      child.kill("SIGKILL");
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
