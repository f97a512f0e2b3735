import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { moddable } from "../../support/moddable.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const engines = ["node", ...(moddable ? ["moddable"] : [])];

describe.each(engines)("esplab lab (what npm start runs) on the %s engine", (engine) => {
  it("serves the lab with the board running the firmware and the local cloud, and stops cleanly on a signal", async () => {
    // A state directory that does not exist yet, as on a fresh clone.
    const scratch = mkdtempSync(path.join(tmpdir(), "esplab-lab-"));
    const stateDir = path.join(scratch, "state");
    const child = spawn(process.execPath, [path.join(root, "bin/esplab.js"), "lab", "--port", "0", "--engine", engine, "--app", "board-check", "--state", stateDir], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
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
      type State = { parts: Record<string, { type: string; lines?: string[] }>; engine: string };
      const read = async () => (await (await fetch(new URL("/api/state", url))).json()) as State;
      const lcdLine = (state: State) => Object.values(state.parts).find((part) => part.type === "lcd1602-i2c")?.lines?.[0] ?? "";
      let state = await read();
      expect(state.engine).toBe(engine);
      // The firmware shows the IR sensor's state once it runs (on Moddable's engine after its build).
      for (let waited = 0; !lcdLine(state).startsWith("IR clear") && waited < 60_000; waited += 200) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        state = await read();
      }
      expect(lcdLine(state)).toMatch(/^IR clear/);
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
  }, 120_000);
});
