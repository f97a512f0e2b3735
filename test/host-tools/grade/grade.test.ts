import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createProject } from "../../../host-tools/project/new-project.ts";
import { ESPLAB_ROOT } from "../../../host-tools/project/project.ts";

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-grade-class-"));
afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }));

/** Ten students: the starter app as written, and the mistakes a class makes. */
const CLASS: Record<string, (app: string) => string> = {
  ada: (app) => app,
  bob: (app) => app,
  cy: (app) => app,
  dee: (app) => app,
  eve: (app) => app,
  fay: (app) => app,
  gus: (app) => app.replace("digit * 20", "digit * 10"), // the servo goes half as far
  hal: (app) => app.replace('"Obstacle!" : "Hello!"', '"Hello!" : "Hello!"'), // never sees the obstacle
  ivy: (app) => app.replace("let presses", "let presses").replace("const show = ()", 'const broken: number = "five";\n  const show = ()'), // does not compile
  jo: (app) => app.replace("platform.log(`key ${key}`);", "for (;;) {} // waits for the key to be released"), // never returns
};

describe("esplab grade", () => {
  it("grades a class in parallel: scores, a compile error in its row, an endless loop stopped at the limit; table, JSON, JUnit and HTML", () => {
    const roster = path.join(workspace, "class");
    for (const [name, change] of Object.entries(CLASS)) {
      const { root } = createProject(path.join(roster, name), { app: `${name}-a2` });
      const file = path.join(root, "src/app.ts");
      fs.writeFileSync(file, change(fs.readFileSync(file, "utf8")));
    }
    // The instructor's scenario names no app: each student's own runs.
    const scenarios = path.join(workspace, "scenarios");
    fs.mkdirSync(scenarios);
    const starter = fs.readFileSync(path.join(ESPLAB_ROOT, "host-tools/project/template/scenarios/starter.yaml"), "utf8");
    fs.writeFileSync(path.join(scenarios, "a2.yaml"), starter.replace(/^app: .*\n/m, "").replace(/^name: .*$/m, "name: keys, servo and obstacle"));

    const out = path.join(workspace, "report");
    const result = spawnSync(process.execPath, [path.join(ESPLAB_ROOT, "bin/esplab.js"), "grade", roster, scenarios, "--out", out, "--jobs", "2", "--engine", "node", "--time-limit", "45"], {
      cwd: workspace,
      encoding: "utf8",
      timeout: 400_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const rows = Object.fromEntries(result.stdout.split("\n").filter((line) => /^[a-z]+ {2,}/.test(line)).map((line) => [line.split(/\s+/)[0], line.split(/\s{2,}/).slice(1)]));
    for (const name of ["ada", "bob", "cy", "dee", "eve", "fay"]) expect(rows[name]).toEqual(["4/4", "4/4", "graded"]);
    expect(rows.gus).toEqual(["3/4", "3/4", "graded"]);
    expect(rows.hal).toEqual(["3/4", "3/4", "graded"]);
    expect(rows.ivy).toEqual(["error", "0", "does not build"]);
    expect(rows.jo).toEqual(["—", "0", "timed out"]);
    expect(result.stdout).toMatch(/10 students in \d+ s \([\d.]+ a minute\)/);

    const json = JSON.parse(fs.readFileSync(path.join(out, "grade.json"), "utf8"));
    const ivy = json.students.find((student: { name: string }) => student.name === "ivy");
    expect(ivy.reason).toMatch(/src\/app\.ts:\d+:\d+ TS2322: Type 'string' is not assignable to type 'number'/);
    const gus = json.students.find((student: { name: string }) => student.name === "gus");
    const failed = gus.scenarios[0].steps.find((step: { status: string }) => step.status === "failed");
    expect(failed.message).toMatch(/expected the servo at 100° ± \d+° within 2 s; it is at 50\.0°/);
    expect(failed.board.servo.angle).toBeCloseTo(50, 0); // the board as it was when the step failed
    expect(failed.board.lcd.lines[1]).toMatch(/key 5/);

    const junit = fs.readFileSync(path.join(out, "grade.junit.xml"), "utf8");
    expect(junit.match(/<testsuite /g)).toHaveLength(10);
    expect(junit).toMatch(/<testsuite name="jo" tests="1" failures="0" errors="1"/);
    expect(junit).toMatch(/<testsuite name="gus: keys, servo and obstacle" tests="6" failures="1"/);

    const html = fs.readFileSync(path.join(out, "grade.html"), "utf8");
    expect(html).toMatch(/<h2 id="student-gus">gus/);
    expect(html).toMatch(/The board at that moment:<\/p><pre class="board">lcd:\n {2}\|Hello! {10}\|\n {2}\|key 5 {11}\|/);
    expect(html).toMatch(/stopped at the time limit \(45 s\)/);
  }, 420_000);
});
