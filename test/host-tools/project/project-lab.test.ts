/** The lab on a student's own project, as the student runs it (npm start in the project): edits reach the board. */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createProject } from "../../../host-tools/project/new-project.ts";
import { ESPLAB_ROOT } from "../../../host-tools/project/project.ts";

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-project-lab-"));
let lab: ChildProcess | undefined;
afterAll(() => {
  if (lab && lab.exitCode === null) process.kill(-lab.pid!, "SIGKILL");
  fs.rmSync(workspace, { recursive: true, force: true });
});

interface LabState {
  firmware: { state: string; problem?: { kind: string; message: string } };
  parts: Record<string, { type: string; lines?: string[] }>;
}

async function waitFor(url: string, condition: (state: LabState) => boolean, what: string): Promise<LabState> {
  for (const started = Date.now(); ; ) {
    const state = (await (await fetch(new URL("api/state", url))).json()) as LabState;
    if (condition(state)) return state;
    if (Date.now() - started > 90_000) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state.firmware)} ${JSON.stringify(state.parts.lcd?.lines)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const lcdShows = (text: string) => (state: LabState) => state.firmware.state === "running" && (state.parts.lcd?.lines ?? []).some((line) => line.includes(text));

describe("npm start in a student's project", () => {
  it("shows the student's app; in-place and rename saves update the board; a syntax error is on the page until the next good save", async () => {
    const { root } = createProject(path.join(workspace, "my-a2"));
    const app = path.join(root, "src/app.ts");
    const original = fs.readFileSync(app, "utf8");
    lab = spawn(process.execPath, [path.join(ESPLAB_ROOT, "bin/esplab.js"), "lab", "--port", "0", "--app", "my-a2"], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    lab.stdout!.on("data", (chunk) => (output += chunk));
    lab.stderr!.on("data", (chunk) => (output += chunk));
    for (const started = Date.now(); !/Lab page: +http/.test(output); ) {
      if (Date.now() - started > 90_000) throw new Error(`the lab did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /Lab page: +(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
    await waitFor(url, lcdShows("Hello!"), "the starter app");

    fs.writeFileSync(app, original.replaceAll('"Hello!"', '"Howdy!"')); // an in-place save
    await waitFor(url, lcdShows("Howdy!"), "the in-place save");

    const temp = `${app}.tmp~`; // a rename save, as vim and JetBrains make them
    fs.writeFileSync(temp, original.replaceAll('"Hello!"', '"Hiya!"'));
    fs.renameSync(temp, app);
    await waitFor(url, lcdShows("Hiya!"), "the rename save");

    fs.writeFileSync(app, `${original}\nconst = ;\n`);
    const broken = await waitFor(url, (state) => state.firmware.state === "not running", "the build error");
    expect(broken.firmware.problem).toMatchObject({ kind: "build", message: expect.stringMatching(/src\/app\.ts:\d+:\d+ TS1134: Variable declaration expected/) });

    fs.writeFileSync(app, original.replaceAll('"Hello!"', '"Fixed!"'));
    await waitFor(url, lcdShows("Fixed!"), "the recovery");
    process.kill(-lab.pid!, "SIGINT");
  }, 240_000);
});
