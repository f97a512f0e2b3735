import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ESPLAB_ROOT } from "../../../host-tools/project/project.ts";

const bin = path.join(ESPLAB_ROOT, "bin/esplab.js");
let workspace: string;
let root: string;

/** Runs esplab as a student would, in their project (no standard input, a limit so a hang fails the test). */
function esplab(args: string[], cwd = root) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8", timeout: 240_000, stdio: ["ignore", "pipe", "pipe"] });
}

beforeAll(() => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-new-"));
  root = path.join(workspace, "My A2");
  const made = esplab(["new", "My A2"], workspace);
  expect(made.stderr).toBe("");
  expect(made.status).toBe(0);
  // What npm install does with the file: dependency esplab new wrote: a link to this checkout.
  fs.mkdirSync(path.join(root, "node_modules"));
  fs.symlinkSync(ESPLAB_ROOT, path.join(root, "node_modules/esplab"));
});
afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));

describe("esplab new", () => {
  it("makes a project that depends on this esplab, keeps secrets out of git and names its app after the folder", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pkg.name).toBe("my-a2");
    expect(pkg.devDependencies.esplab).toBe(`file:${ESPLAB_ROOT}`);
    expect(pkg.scripts).toMatchObject({ start: "esplab lab", test: "esplab test" });
    expect(pkg.esplab).toEqual({ app: "my-a2", sources: "src", wiring: "wiring.json", scenarios: "scenarios" });
    const ignored = fs.readFileSync(path.join(root, ".gitignore"), "utf8").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["esplab.config.json", "node_modules/", "build/", ".esplab/", "*.pem", "*.key"]));
    expect(fs.readFileSync(path.join(root, "src/app.ts"), "utf8")).toMatch(/registerApp\("my-a2"/);
    expect(fs.readFileSync(path.join(root, "scenarios/starter.yaml"), "utf8")).toMatch(/^app: my-a2$/m);
    // The settings hold no cloud keys, so npm start uses the local cloud.
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(root, "esplab.config.json"), "utf8")))).not.toContain("firebase_api_key");
  });

  it("never writes into a folder that has files", () => {
    const result = esplab(["new", "My A2"], workspace);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/My A2 is not empty \(.*\): esplab new never overwrites files — pick a new folder name/);
    expect(esplab(["new"], workspace).status).toBe(2);
  });

  it("type-checks the app in the editor with the firmware's own settings (no Node, no DOM)", () => {
    const tsc = path.join(ESPLAB_ROOT, "node_modules/typescript/bin/tsc");
    const clean = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: root, encoding: "utf8" });
    expect(clean.stdout).toBe("");
    expect(clean.status).toBe(0);
  });

  it("npm test: type check, both bundles and the starter scenario pass on the XS engine", () => {
    const result = esplab(["test"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/built build\/xs\/firmware\.js \(type check passed\)/);
    expect(result.stdout).toMatch(/built build\/firmware\/esplab\.js/);
    expect(result.stdout).toMatch(/scenarios\/starter\.yaml {2}\(engine: xs\)/);
    expect(result.stdout).toMatch(/1 passed, 0 failed/);
    expect(result.status).toBe(0);
    // The XS bundle holds the student's app and esplab's board check, not the course's reference solutions.
    const bundle = fs.readFileSync(path.join(root, "build/xs/firmware.js"), "utf8");
    expect(bundle).toMatch(/registerApp\("my-a2"/);
    expect(bundle).toMatch(/registerApp\("board-check"/);
    expect(bundle).not.toMatch(/registerApp\("assignment2"/);
  }, 240_000);

  it("a type error or Node API fails npm test with file, line, the fix and the code, and the process ends", () => {
    const file = path.join(root, "src/app.ts");
    const original = fs.readFileSync(file, "utf8");
    try {
      fs.writeFileSync(file, original.replace("platform.log(`key ${key}`);", "console.log(`key ${key}`);"));
      const result = esplab(["test"]);
      expect(result.signal).toBeNull(); // not killed by the time limit: nothing is left watching the files
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/src\/app\.ts:\d+:\d+ TS2584: Cannot find name 'console'/);
      expect(result.stderr).toMatch(/the ESP32 has no console: log with platform\.log/);
      expect(result.stderr).toMatch(/console\.log\(`key \$\{key\}`\);/); // the code frame

      fs.writeFileSync(file, `${original}\nconst broken = ;\n`);
      const syntax = esplab(["test"]);
      expect(syntax.status).toBe(2);
      expect(syntax.stderr).toMatch(/src\/app\.ts:\d+:\d+ TS1109: Expression expected/);
    } finally {
      fs.writeFileSync(file, original);
    }
  }, 240_000);

  it("runs a copy of the project without node_modules (as a grader gets it) against the esplab that runs it", () => {
    const copy = path.join(workspace, "graded-copy");
    fs.cpSync(root, copy, { recursive: true, filter: (source) => !source.includes(`${path.sep}node_modules`) && !source.includes(`${path.sep}build`) });
    const result = esplab(["scenario", "--engine", "node", "--project", copy], workspace);
    expect(result.stdout).toMatch(/1 passed, 0 failed/);
    expect(result.status).toBe(0);
  });

  it("a scenario asking for an app the project does not have names the apps there are, before anything starts", () => {
    const scenario = path.join(workspace, "wrong-app.yaml");
    fs.writeFileSync(scenario, "name: wrong app\napp: nope\nsteps:\n  - expect: { lcd: \"Hello\" }\n");
    const result = esplab(["scenario", scenario]);
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/COULD NOT RUN: app "nope" does not exist in my-a2 — it registers "my-a2" \(and esplab's "board-check"\)/);
  });
});

describe("a project wired by a Wokwi diagram.json", () => {
  it("runs on the diagram's board: the parts on its pins and the firmware driving them, in scenarios and in the lab", async () => {
    const wokwi = path.join(workspace, "wokwi-a2");
    expect(esplab(["new", wokwi], workspace).status).toBe(0);
    fs.mkdirSync(path.join(wokwi, "node_modules"));
    fs.symlinkSync(ESPLAB_ROOT, path.join(wokwi, "node_modules/esplab"));
    // The course parts on other pins than the lab's, and the LCD at 0x3F: the firmware must follow the diagram.
    fs.copyFileSync(path.join(ESPLAB_ROOT, "test/fixtures/wokwi/course-parts.json"), path.join(wokwi, "diagram.json"));
    const pkgFile = path.join(wokwi, "package.json");
    const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
    fs.writeFileSync(pkgFile, JSON.stringify({ ...pkg, esplab: { ...pkg.esplab, wiring: "diagram.json" } }, null, 2));

    const wiring = esplab(["wiring"], wokwi);
    expect(wiring.status).toBe(0);
    expect(wiring.stdout).toMatch(/lcd +lcd1602-i2c +address 0x3f/);
    expect(wiring.stdout).toMatch(/warning: keypad row 2: GPIO12 is a strapping pin/);

    const scenario = esplab(["scenario", "--engine", "node"], wokwi);
    expect(scenario.stdout).toMatch(/1 passed, 0 failed/);
    expect(scenario.status).toBe(0);

    const lab = spawn(process.execPath, [bin, "lab", "--port", "0", "--engine", "node"], { cwd: wokwi, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    lab.stdout.on("data", (chunk) => (output += chunk));
    lab.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise((resolve) => lab.on("exit", resolve));
    try {
      await until(() => /serial {2}esplab firmware: app wokwi-a2/.test(output), 90_000); // the firmware started on the diagram's board
      expect(output).toMatch(/servo_pin = 19/);
      expect(output).toMatch(/lcd_address = 63/);
    } finally {
      lab.kill("SIGINT");
      await exited;
    }
  }, 240_000);
});

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > limitMs) throw new Error("the lab did not start in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
