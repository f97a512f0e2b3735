import { xml } from "../scenario/report.ts";
import type { StudentResult } from "./run-student.ts";

/** A student's total over every scenario (0 for a row that could not be graded). */
export function totalOf(result: StudentResult): { score: number; points: number } {
  return result.scenarios.reduce((sum, scenario) => ({ score: sum.score + scenario.score, points: sum.points + scenario.points }), { score: 0, points: 0 });
}

const points = (value: number) => String(Math.round(value * 100) / 100);

/** The class as a terminal table: a row a student, a column a scenario, the total and the row's status. */
export function gradeTable(results: StudentResult[], scenarioNames: string[]): string {
  const header = ["student", ...scenarioNames.map((_, i) => `S${i + 1}`), "total", "status"];
  const rows = results.map((result) => {
    const total = totalOf(result);
    const cells = scenarioNames.map((_, i) => {
      const scenario = result.scenarios[i];
      return scenario ? (scenario.status === "error" ? "error" : `${points(scenario.score)}/${points(scenario.points)}`) : "—";
    });
    return [result.student.name, ...cells, result.status === "graded" ? `${points(total.score)}/${points(total.points)}` : "0", result.status];
  });
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  const legend = scenarioNames.map((name, i) => `  S${i + 1}  ${name}`);
  return [line(header), ...rows.map(line), "", ...legend].join("\n");
}

/** The class as JSON: every student, scenario and step, with the failures' messages, board state and diagnostics. */
export function gradeJson(results: StudentResult[]): string {
  return JSON.stringify(
    {
      students: results.map((result) => ({
        name: result.student.name,
        project: result.student.dir,
        status: result.status,
        reason: result.reason,
        seconds: Math.round(result.seconds * 10) / 10,
        ...totalOf(result),
        scenarios: result.scenarios,
      })),
    },
    null,
    2,
  );
}

/** JUnit XML: a testsuite per student and scenario, a testcase per step; a row that could not be graded is one error. */
export function gradeJunit(results: StudentResult[]): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="esplab grade">'];
  for (const result of results) {
    const who = xml(result.student.name);
    if (result.status !== "graded" && result.status !== "does not build") {
      lines.push(`  <testsuite name="${who}" tests="1" failures="0" errors="1" time="${result.seconds.toFixed(3)}">`);
      lines.push(`    <testcase classname="${who}" name="run"><error message="${xml(result.status)}">${xml(result.reason ?? "")}</error></testcase>`, "  </testsuite>");
      continue;
    }
    for (const scenario of result.scenarios) {
      const failures = scenario.steps.filter((step) => step.status === "failed").length;
      lines.push(`  <testsuite name="${who}: ${xml(scenario.name)}" tests="${Math.max(scenario.steps.length, 1)}" failures="${failures}" errors="${scenario.status === "error" ? 1 : 0}" time="${scenario.seconds.toFixed(3)}">`);
      lines.push(`    <properties><property name="score" value="${scenario.score}"/><property name="points" value="${scenario.points}"/></properties>`);
      if (scenario.status === "error") lines.push(`    <testcase classname="${who}" name="${xml(scenario.name)}"><error message="could not run">${xml(scenario.error ?? "")}</error></testcase>`);
      else {
        for (const step of scenario.steps) {
          const open = `    <testcase classname="${who}.${xml(scenario.file)}" name="line ${step.line}: ${xml(step.step)}" time="${((step.ms ?? 0) / 1000).toFixed(3)}"`;
          if (step.status === "passed") lines.push(`${open}/>`);
          else if (step.status === "failed") lines.push(`${open}><failure message="${xml((step.message ?? "").split("\n")[0]!)}">${xml(step.message ?? "")}</failure></testcase>`);
          else lines.push(`${open}><skipped/></testcase>`);
        }
      }
      lines.push("  </testsuite>");
    }
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}

/** One self-contained HTML page: the table, then each student's failures with the board as it was at that moment. */
export function gradeHtml(results: StudentResult[], scenarioNames: string[]): string {
  const esc = xml;
  const cell = (result: StudentResult, i: number) => {
    const scenario = result.scenarios[i];
    if (!scenario) return '<td class="none">—</td>';
    const kind = scenario.status === "passed" ? "pass" : scenario.status === "error" ? "error" : "fail";
    return `<td class="${kind}">${scenario.status === "error" ? "error" : `${points(scenario.score)}/${points(scenario.points)}`}</td>`;
  };
  const rows = results.map((result) => {
    const total = totalOf(result);
    return `<tr><th><a href="#${esc(anchor(result.student.name))}">${esc(result.student.name)}</a></th>${scenarioNames.map((_, i) => cell(result, i)).join("")}<td>${result.status === "graded" ? `${points(total.score)}/${points(total.points)}` : "0"}</td><td>${esc(result.status)}</td></tr>`;
  });
  const details = results.map((result) => {
    const parts = [`<h2 id="${esc(anchor(result.student.name))}">${esc(result.student.name)} <small>${esc(result.status)}, ${result.seconds.toFixed(1)} s</small></h2>`];
    if (result.reason) parts.push(`<pre class="reason">${esc(result.reason)}</pre>`);
    for (const scenario of result.scenarios) {
      const failed = scenario.steps.filter((step) => step.status === "failed");
      if (!failed.length && scenario.status !== "error") continue;
      parts.push(`<h3>${esc(scenario.name)} — ${points(scenario.score)}/${points(scenario.points)}</h3>`);
      if (scenario.status === "error" && scenario.error !== result.reason) parts.push(`<pre class="reason">${esc(scenario.error ?? "")}</pre>`);
      for (const step of failed) {
        parts.push(`<div class="failure"><p><b>line ${step.line}: ${esc(step.step)}</b></p><pre>${esc(step.message ?? "")}</pre>`);
        if (step.board) parts.push(`<p>The board at that moment:</p><pre class="board">${esc(describeBoard(step.board))}</pre>`);
        if (step.diagnostics?.length) parts.push(`<ul>${step.diagnostics.map((entry) => `<li class="${esc(entry.severity)}">${esc(entry.severity)} ${esc(entry.part)}: ${esc(entry.message)}</li>`).join("")}</ul>`);
        parts.push("</div>");
      }
    }
    return parts.join("\n");
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>esplab grade</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; max-width: 70em; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
td.pass { background: #e3f6e3; } td.fail { background: #fde8c8; } td.error { background: #f8d0d0; }
pre { background: #f5f5f5; padding: 0.5em; white-space: pre-wrap; } pre.board { font-family: ui-monospace, monospace; }
.failure { border-left: 3px solid #e0a040; padding-left: 1em; margin: 1em 0; } li.error { color: #a00; }
</style></head><body>
<h1>esplab grade</h1>
<table><tr><th>student</th>${scenarioNames.map((name, i) => `<th title="${esc(name)}">S${i + 1}</th>`).join("")}<th>total</th><th>status</th></tr>
${rows.join("\n")}
</table>
<ol>${scenarioNames.map((name) => `<li>${esc(name)}</li>`).join("")}</ol>
${details.join("\n")}
</body></html>
`;
}

/** A board snapshot (part id → the part's state) as text: the LCD's lines in a frame, the rest as key=value. */
function describeBoard(board: Record<string, unknown>): string {
  return Object.entries(board)
    .map(([id, state]) => {
      const lines = (state as { lines?: unknown })?.lines;
      if (Array.isArray(lines)) return `${id}:\n${lines.map((line) => `  |${String(line)}|`).join("\n")}`;
      const fields = Object.entries((state ?? {}) as Record<string, unknown>).filter(([, value]) => typeof value !== "object");
      return `${id}: ${fields.map(([key, value]) => `${key}=${String(value)}`).join(" ")}`;
    })
    .join("\n");
}

function anchor(name: string): string {
  return `student-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}
