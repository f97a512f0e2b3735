import type { Diagnostic } from "../board/diagnostics.ts";
import type { Step } from "./parse.ts";
import type { ScenarioResult } from "./run.ts";

/** One scenario file's run, for reports: passed, failed (a check did not hold), or error (it could not run). */
export interface ScenarioOutcome {
  file: string;
  name: string;
  engine: string;
  status: "passed" | "failed" | "error";
  seconds: number;
  /** Every step of the scenario, run or not (empty when the file could not be read). */
  steps: Step[];
  result?: ScenarioResult;
  /** Why it could not run: a YAML error, a firmware that does not build or start. */
  error?: string;
}

export function describeStep(step: Step): string {
  switch (step.kind) {
    case "press":
      return `press ${step.keys.join("")}`;
    case "set":
      return ["set", step.distanceCm !== undefined ? `distance ${step.distanceCm}` : "", step.obstacle !== undefined ? `obstacle ${step.obstacle}` : ""].filter(Boolean).join(" ");
    case "wait":
      return `wait ${step.ms} ms`;
    case "reset":
      return step.midByte ? "reset mid-byte" : "reset";
    case "publish":
      return `publish ${step.topic}`;
    case "expect-lcd":
      return `expect lcd "${step.text}"`;
    case "expect-servo":
      return `expect servo ${step.angle}°`;
    case "expect-db":
      return `expect db ${step.path}`;
    case "expect-mqtt":
      return `expect mqtt ${step.topic}`;
    case "expect-serial":
      return `expect serial "${step.text}"`;
    case "expect-diagnostic":
      return `expect diagnostic "${step.text}"`;
  }
}

export function describeDiagnostic(entry: Diagnostic): string {
  return `${entry.severity} ${entry.part} @${(entry.atMs / 1000).toFixed(3)} s: ${entry.message}`;
}

export function summaryLine(outcomes: ScenarioOutcome[]): string {
  const count = (status: ScenarioOutcome["status"]) => outcomes.filter((outcome) => outcome.status === status).length;
  const score = outcomes.reduce((sum, outcome) => sum + (outcome.result?.score ?? 0), 0);
  const points = outcomes.reduce((sum, outcome) => sum + (outcome.result?.points ?? 0), 0);
  const errors = count("error");
  return `${count("passed")} passed, ${count("failed")} failed${errors ? `, ${errors} could not run` : ""} — ${formatPoints(score)}/${formatPoints(points)} points`;
}

export function formatPoints(points: number): string {
  return Number.isInteger(points) ? String(points) : points.toFixed(2);
}

/** The run as JSON: what a grading script reads. */
export function jsonReport(outcomes: ScenarioOutcome[]): string {
  return JSON.stringify(
    {
      summary: summaryLine(outcomes),
      scenarios: outcomes.map((outcome) => ({
        file: outcome.file,
        name: outcome.name,
        engine: outcome.engine,
        status: outcome.status,
        seconds: round(outcome.seconds),
        score: outcome.result ? round(outcome.result.score) : 0,
        points: outcome.result?.points ?? 0,
        error: outcome.error,
        steps: outcome.steps.map((step, index) => {
          const result = outcome.result?.results[index];
          return {
            line: step.line,
            step: describeStep(step),
            status: result ? (result.ok ? "passed" : "failed") : "not run",
            ms: result ? round(result.ms) : undefined,
            message: result?.message,
            diagnostics: result?.diagnostics.map((entry) => ({ ...entry, atMs: round(entry.atMs) })),
            board: result?.board,
          };
        }),
      })),
    },
    null,
    2,
  );
}

/**
 * JUnit XML as CI systems and autograders read it (the Ant schema's common subset): a testsuite per scenario, a
 * testcase per step, <failure> for a check that did not hold, <skipped> for steps after it, <error> when it could
 * not run.
 */
export function junitReport(outcomes: ScenarioOutcome[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = (status: ScenarioOutcome["status"]) => outcomes.filter((outcome) => outcome.status === status).length;
  const tests = outcomes.reduce((sum, outcome) => sum + Math.max(outcome.steps.length, 1), 0);
  const failures = outcomes.reduce((sum, outcome) => sum + (outcome.result?.results.filter((result) => !result.ok).length ?? 0), 0);
  const time = outcomes.reduce((sum, outcome) => sum + outcome.seconds, 0);
  lines.push(`<testsuites name="esplab scenarios" tests="${tests}" failures="${failures}" errors="${all("error")}" time="${time.toFixed(3)}">`);
  for (const outcome of outcomes) {
    const results = outcome.result?.results ?? [];
    const suiteFailures = results.filter((result) => !result.ok).length;
    const skipped = outcome.result ? outcome.steps.length - results.length : 0;
    const suiteTests = Math.max(outcome.steps.length, 1);
    lines.push(
      `  <testsuite name="${xml(outcome.name)}" file="${xml(outcome.file)}" tests="${suiteTests}" failures="${suiteFailures}" errors="${outcome.status === "error" ? 1 : 0}" skipped="${skipped}" time="${outcome.seconds.toFixed(3)}">`,
    );
    lines.push(`    <properties><property name="engine" value="${xml(outcome.engine)}"/><property name="score" value="${round(outcome.result?.score ?? 0)}"/><property name="points" value="${outcome.result?.points ?? 0}"/></properties>`);
    if (outcome.status === "error") {
      lines.push(`    <testcase classname="${xml(outcome.file)}" name="run" time="${outcome.seconds.toFixed(3)}">`);
      lines.push(`      <error message="${xml(firstLine(outcome.error ?? "could not run"))}">${xml(outcome.error ?? "")}</error>`);
      lines.push("    </testcase>");
    }
    for (const [index, step] of (outcome.status === "error" ? [] : outcome.steps).entries()) {
      const result = results[index];
      const name = `line ${step.line}: ${describeStep(step)}`;
      const open = `    <testcase classname="${xml(outcome.file)}" name="${xml(name)}" time="${((result?.ms ?? 0) / 1000).toFixed(3)}"`;
      if (result?.ok) lines.push(`${open}/>`);
      else if (!result) lines.push(`${open}><skipped message="not run: an earlier step failed (run with --continue to run every step)"/></testcase>`);
      else lines.push(`${open}><failure message="${xml(firstLine(result.message))}">${xml(result.message)}</failure></testcase>`);
    }
    lines.push("  </testsuite>");
  }
  lines.push("</testsuites>");
  return lines.join("\n") + "\n";
}

function firstLine(text: string): string {
  return text.split("\n")[0]!;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Text for an XML attribute or element: the five entities, and no characters XML 1.0 forbids. */
export function xml(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
