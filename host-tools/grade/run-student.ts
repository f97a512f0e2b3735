import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ESPLAB_ROOT } from "../project/project.ts";
import type { Student } from "./roster.ts";

/** One scenario of one student, as `esplab scenario --reporter json` reports it. */
export interface GradedScenario {
  file: string;
  name: string;
  status: "passed" | "failed" | "error";
  score: number;
  points: number;
  seconds: number;
  error?: string;
  steps: { line: number; step: string; status: string; ms?: number; message?: string; board?: Record<string, unknown>; diagnostics?: { severity: string; part: string; message: string; atMs: number }[] }[];
}

/** A student's row: graded (whatever the scores), or why there are no scores. */
export interface StudentResult {
  student: Student;
  status: "graded" | "does not build" | "could not run" | "timed out" | "crashed";
  seconds: number;
  scenarios: GradedScenario[];
  /** Why the row has no scores (a compile error, the time limit, the last output of a crash). */
  reason?: string;
}

export interface StudentRunOptions {
  scenarios: string[];
  engine: string;
  timeLimitMs: number;
  /** Run in a network namespace of its own (only a loopback): no network beyond 127.0.0.1, no port shared. */
  isolateNetwork: boolean;
}

/** Whether this machine can give each student a network namespace of their own (root and unshare). */
export function canIsolateNetwork(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  return spawnSync("unshare", ["-n", "sh", "-c", "ip link set lo up"], { stdio: "ignore" }).status === 0;
}

/**
 * Grades one student in a process of their own: `esplab scenario` on their project with the class's scenarios,
 * every step run (--continue), the report as JSON. A crash, an infinite loop or a hung network costs only this row:
 * the process group is killed at the time limit.
 */
export async function gradeStudent(student: Student, options: StudentRunOptions): Promise<StudentResult> {
  const started = performance.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-grade-"));
  const report = path.join(work, "report.json");
  const esplab = [path.join(ESPLAB_ROOT, "bin/esplab.js"), "scenario", "--project", student.dir, "--engine", options.engine, "--continue", "--reporter", "json", "--out", report, ...options.scenarios];
  const [command, args] = options.isolateNetwork
    ? ["unshare", ["-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', process.execPath, ...esplab]]
    : [process.execPath, esplab];
  const child = spawn(command, args as string[], { cwd: work, detached: true, stdio: ["ignore", "pipe", "pipe"]});
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, options.timeLimitMs);
  const code = await new Promise<number | null>((resolve) => {
    child.on("close", (status) => resolve(status));
    child.on("error", () => resolve(null));
  });
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  try {
    if (timedOut) return { student, status: "timed out", seconds, scenarios: [], reason: `stopped at the time limit (${Math.round(options.timeLimitMs / 1000)} s): the firmware never finished a scenario (an endless loop?)` };
    const scenarios = fs.existsSync(report) ? ((JSON.parse(fs.readFileSync(report, "utf8")) as { scenarios: GradedScenario[] }).scenarios) : undefined;
    // Exit 2 without a report: the project itself could not be read (the message says why); else a crash.
    if (!scenarios) return { student, status: code === 2 ? "could not run" : "crashed", seconds, scenarios: [], reason: code === 2 ? lastLines(output) : `esplab scenario ended (exit ${code}) without a report: ${lastLines(output)}` };
    const unbuilt = scenarios.length > 0 && scenarios.every((scenario) => scenario.status === "error" && /does not build/.test(scenario.error ?? ""));
    if (unbuilt) return { student, status: "does not build", seconds, scenarios, reason: scenarios[0]!.error };
    const unreadable = scenarios.length > 0 && scenarios.every((scenario) => scenario.status === "error") ? scenarios[0]!.error : undefined;
    return { student, status: "graded", seconds, scenarios, reason: unreadable };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-5).join(" | ") || "no output";
}
