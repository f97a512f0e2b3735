import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { gradeHtml, gradeJson, gradeJunit, gradeTable, totalOf } from "../grade/grade-report.ts";
import { readRoster } from "../grade/roster.ts";
import { canIsolateNetwork, gradeStudent } from "../grade/run-student.ts";
import { parseScenario } from "../scenario/parse.ts";
import { requireEngine } from "../runtime/virtual-device.ts";

const USAGE = `usage: esplab grade ROSTER SCENARIOS [--out DIR] [--jobs N] [--time-limit S] [--engine xs|node|moddable]

Grades a class: every student's project against every scenario, each student in a process of their own (on Linux
as root, in a network namespace of their own too: nothing beyond 127.0.0.1, no port shared), several at once.
  ROSTER          a folder of student projects (each sub-folder one student), or a CSV of name,path rows
  SCENARIOS       a folder of scenario files (.yaml), or one file. Leave "app:" out: each student's own app runs
  --out DIR       where grade.json, grade.junit.xml and grade.html go (default ./grade-report; never overwritten)
  --jobs N        students at once (default: the number of CPU cores)
  --time-limit S  seconds a student may take for all scenarios before their row is stopped (default 300)
  --engine E      xs (default: the ESP32's engine), node or moddable
Exit code: 0 graded (whatever the scores), 2 the roster or the scenarios cannot be read.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      out: { type: "string", default: "grade-report" },
      jobs: { type: "string" },
      "time-limit": { type: "string", default: "300" },
      engine: { type: "string", default: "xs" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 2) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const engine = requireEngine(values.engine);
  const jobs = Number(values.jobs ?? os.availableParallelism());
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError("GRADE", `--jobs must be 1–64, got "${values.jobs}"`);
  const timeLimit = Number(values["time-limit"]);
  if (!Number.isFinite(timeLimit) || timeLimit < 5) throw new UsageError("GRADE", `--time-limit is seconds, at least 5; got "${values["time-limit"]}"`);
  const [rosterSource, scenarioSource] = positionals as [string, string];
  const students = readRoster(rosterSource);
  const scenarios = scenarioFiles(scenarioSource);
  // Every scenario is read once here, so a YAML mistake is the instructor's error message, not every student's row.
  const scenarioNames = scenarios.map((file) => parseScenario(fs.readFileSync(file, "utf8"), file).name);
  const out = path.resolve(values.out);
  const reports = ["grade.json", "grade.junit.xml", "grade.html"].map((name) => path.join(out, name));
  const existing = reports.filter((file) => fs.existsSync(file));
  if (existing.length) throw new UsageError("GRADE", `${existing[0]} exists: esplab grade never overwrites a report — give another --out`);

  const isolateNetwork = canIsolateNetwork();
  console.log(`esplab grade: ${students.length} students × ${scenarios.length} scenarios, ${jobs} at once, engine ${engine}, ${timeLimit} s each`);
  if (!isolateNetwork) console.log("  note: no network namespaces here (they need Linux, root and unshare): students share this machine's network");
  const started = performance.now();
  const results = await pool(students, jobs, async (student) => {
    const result = await gradeStudent(student, { scenarios, engine, timeLimitMs: timeLimit * 1000, isolateNetwork });
    const total = totalOf(result);
    console.log(`  ${student.name}: ${result.status === "graded" ? `${Math.round(total.score * 100) / 100}/${total.points}` : result.status} (${result.seconds.toFixed(1)} s)`);
    return result;
  });
  const minutes = (performance.now() - started) / 60_000;
  console.log(`\n${gradeTable(results, scenarioNames)}\n`);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(reports[0]!, `${gradeJson(results)}\n`, { flag: "wx" });
  fs.writeFileSync(reports[1]!, gradeJunit(results), { flag: "wx" });
  fs.writeFileSync(reports[2]!, gradeHtml(results, scenarioNames), { flag: "wx" });
  console.log(`${students.length} students in ${(minutes * 60).toFixed(0)} s (${(students.length / minutes).toFixed(1)} a minute); reports in ${path.relative(process.cwd(), out) || "."}/: grade.json, grade.junit.xml, grade.html`);
  return 0;
}

function scenarioFiles(source: string): string[] {
  if (!fs.existsSync(source)) throw new UsageError("GRADE", `no scenarios at ${source}: give a folder of .yaml files or one file`);
  if (!fs.statSync(source).isDirectory()) return [path.resolve(source)];
  const files = fs.readdirSync(source).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => path.resolve(source, name));
  if (!files.length) throw new UsageError("GRADE", `${source} holds no .yaml scenario`);
  return files;
}

/** Runs `work` over the items, at most `limit` at a time, keeping the items' order in the results. */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
