/**
 * `esplab scenario` as a grader uses it: every file runs even when one cannot, --continue runs every step for
 * partial credit, the summary always prints, JSON and JUnit reports, and exit codes that tell "failed" (1) from
 * "could not run" (2).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { xml } from "../../../host-tools/scenario/report.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-scenario-command-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function esplab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, "bin/esplab.js"), ...args], { cwd: root, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function scenario(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const broken = scenario("broken.yaml", "name: broken\nsteps: [*a]\n");
const partly = scenario(
  "partly.yaml",
  'name: partly right\napp: board-check\npoints: 10\nsteps:\n  - expect: { lcd: "no such text", within: 300ms, points: 3 }\n  - expect: { lcd: "IR clear", points: 1 }\n  - press: "7"\n  - expect: { lcd: "key 7", points: 1 }\n',
);
const right = scenario("right.yaml", 'name: all right\napp: board-check\nsteps:\n  - expect: { lcd: "IR clear" }\n');

interface JsonReport {
  summary: string;
  scenarios: { file: string; status: string; score: number; points: number; error?: string; steps: { line: number; status: string; message?: string }[] }[];
}

describe("esplab scenario for grading", () => {
  it("runs every file and every step with --continue, scores partial credit, and exits 2 when one could not run", async () => {
    const { code, stdout, stderr } = await esplab("scenario", broken, partly, right, "--continue", "--reporter", "json");
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as JsonReport;
    expect(report.scenarios.map((s) => s.status)).toEqual(["error", "failed", "passed"]);
    expect(report.scenarios[0]!.error).toMatch(/broken\.yaml line 2: \*a refers to no anchor/);
    const steps = report.scenarios[1]!.steps;
    expect(steps.map((step) => step.status)).toEqual(["failed", "passed", "passed", "passed"]);
    expect(steps[0]!.message).toMatch(/expected the LCD to show "no such text" within 300 ms; it shows:/);
    expect(report.scenarios[1]!.score).toBe(4); // 2 of 5 check points passed, of 10
    expect(report.scenarios[1]!.points).toBe(10);
    expect(report.summary).toBe("1 passed, 1 failed, 1 could not run — 5/11 points");
    expect(stderr).toMatch(/1 passed, 1 failed, 1 could not run/); // the summary prints on the terminal too
  }, 240_000);

  it("without --continue stops a scenario at its first failure and reports the rest as skipped in JUnit; exit 1", async () => {
    const out = path.join(dir, "report.xml");
    const { code, stdout } = await esplab("scenario", partly, right, "--reporter", "junit", "--out", out);
    expect(code).toBe(1);
    expect(stdout).toMatch(/1 passed, 1 failed — 1\/11 points/);
    const junit = fs.readFileSync(out, "utf8");
    expect(junit).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="esplab scenarios" tests="5" failures="1" errors="0"/);
    expect(junit).toMatch(/<testsuite name="partly right" file="[^"]*partly.yaml" tests="4" failures="1" errors="0" skipped="3"/);
    expect(junit).toMatch(/<testcase classname="[^"]*partly.yaml" name="line 5: expect lcd &quot;no such text&quot;" time="[\d.]+"><failure message="expected the LCD to show &quot;no such text&quot; within 300 ms; it shows:">/);
    expect(junit.match(/<skipped message="not run: an earlier step failed/g)).toHaveLength(3);
    expect(junit.match(/<testsuite /g)).toHaveLength(2);
    expect(junit.match(/<testsuite /g)).toHaveLength(junit.match(/<\/testsuite>/g)!.length);
  }, 240_000);

  it("names wrong options instead of crashing", async () => {
    const [unknown, reporter, missing] = await Promise.all([
      esplab("scenario", right, "--json"),
      esplab("scenario", right, "--reporter", "tap"),
      esplab("scenario", path.join(dir, "nope.yaml")),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^esplab scenario: Unknown option '--json' — see "esplab scenario --help"/);
    expect(unknown.stderr).not.toMatch(/at \w+ \(/); // no stack trace
    expect(reporter.stderr).toMatch(/--reporter must be text, json, junit; got "tap"/);
    expect(missing.stderr).toMatch(/no scenario file .*nope\.yaml/);
  }, 180_000);

  it("escapes any text for XML: no markup and no character XML 1.0 forbids survives (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const escaped = xml(text);
        expect(escaped).not.toMatch(/[<>"']|&(?!amp;|lt;|gt;|quot;|apos;)/);
        // eslint-disable-next-line no-control-regex
        expect(escaped).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
      }),
      { numRuns: 2000 },
    );
  });
});
