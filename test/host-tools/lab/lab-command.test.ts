/** `esplab lab` as a person runs it: a config error leaves the page up, and Ctrl-C stops every process quietly. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "../../support/until.ts";

const root = path.resolve(import.meta.dirname, "../../..");
let lab: ChildProcess | undefined;
let state: string;

/** Starts the lab in its own process group, as a terminal does, so a Ctrl-C reaches every process in it. */
function startLab(args: string[]) {
  state = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-lab-state-"));
  fs.writeFileSync(path.join(state, "settings.json"), "{}");
  const child = spawn(process.execPath, [path.join(root, "bin/esplab.js"), "lab", "--port", "0", "--state", state, "--config", path.join(state, "settings.json"), ...args], {
    cwd: root,
    detached: true,
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  lab = child;
  const output = { stdout: "", stderr: "" };
  child.stdout!.on("data", (chunk) => (output.stdout += chunk));
  child.stderr!.on("data", (chunk) => (output.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = () => /Lab page: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output.stdout)?.[1];
  return { child, output, exited, url };
}

afterEach(() => {
  if (lab && lab.exitCode === null) process.kill(-lab.pid!, "SIGKILL");
  lab = undefined;
  fs.rmSync(state, { recursive: true, force: true });
});

describe("esplab lab", () => {
  it("with an app that does not exist, serves the page with the error in Diagnostics and the firmware 'not running'", async () => {
    const run = startLab(["--app", "no-such-app"]);
    await until(() => /the firmware did not start/.test(run.output.stderr), "the start-up error", 60_000);
    const state = (await (await fetch(new URL("api/state", run.url()!))).json()) as { firmware: { state: string; problem: { kind: string; message: string } }; diagnostics: { part: string; message: string }[] };
    expect(state.firmware).toMatchObject({ state: "not running", problem: { kind: "start", message: expect.stringContaining('app "no-such-app" does not exist — set app to one of:') } });
    expect(state.diagnostics.some((entry) => entry.part === "firmware" && /app "no-such-app" does not exist/.test(entry.message))).toBe(true);
    process.kill(-run.child.pid!, "SIGINT");
    expect(await run.exited).toBe(0);
  }, 90_000);

  it("Ctrl-C (SIGINT to the whole process group) stops the lab and the XS engine with no crash trace", async () => {
    const run = startLab(["--app", "board-check"]);
    await until(() => /firmware running/.test(run.output.stdout), "the firmware to run", 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the firmware's timers talk over the engine's pipes
    process.kill(-run.child.pid!, "SIGINT");
    const code = await run.exited;
    expect(run.output.stderr).toBe("");
    expect(code).toBe(0);
    expect(run.output.stdout).toMatch(/stopping…\n$/);
  }, 90_000);
});
