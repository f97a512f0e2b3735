import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { loadLaptopConfig } from "../runtime/laptop-config.ts";
import { requireEngine } from "../runtime/virtual-device.ts";
import { parseScenario } from "../scenario/parse.ts";
import { describeDiagnostic, describeStep, formatPoints, jsonReport, junitReport, summaryLine, type ScenarioOutcome } from "../scenario/report.ts";
import { runScenarioFile } from "../scenario/session.ts";
import { findProject, loadProject, type Project } from "../project/project.ts";

/** A project's scenarios: the .yaml files in its scenarios folder, in name order. */
export function projectScenarios(project: Project): string[] {
  if (!fs.existsSync(project.scenarioDir)) return [];
  return fs
    .readdirSync(project.scenarioDir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(project.scenarioDir, name));
}

const USAGE = `usage: esplab scenario [FILE...] [--engine node|xs|moddable] [--config FILE] [--continue] [--real-time]
                        [--reporter text|json|junit] [--out FILE] [--project DIR]

Runs scenario files (YAML: press keys, set the IR sensors, expect LCD text, servo angles, database values, MQTT
messages, serial output, board diagnostics) headless on the virtual board. A board error (a lost LCD instruction, a
short circuit) fails the step it happened in. In your own project (esplab new) the firmware and the board are the
project's, and with no FILE every scenario in its scenarios/ runs. esplab's own scenarios are in test/scenarios/.
On the node and xs engines a scenario runs in virtual time: waits, key presses and "within" limits are on the
scenario's clock, which moves only when the device and the local cloud have nothing left to do, so results and step
times are the same on a fast, slow or loaded machine, and a run takes less than its virtual time.
  --engine xs        (default) in the XS engine (xsnap), as the ESP32 runs it, every seam bridged to the laptop
  --engine node      the firmware in Node (fastest, and Node's debugger works; for debugging)
  --engine moddable  on Moddable's own runtime for Linux: the device's linker (preloaded, frozen built-ins), stack
                     limit, Timer, Preference and sockets; only pins and buses are the virtual board's. Needs
                     Moddable's tools ($MODDABLE, or "esplab moddable setup")
  --continue         run every step even after one fails, for partial credit (points per expect, see docs)
  --real-time        the laptop's clock instead, to watch a run live (moddable always runs so: its Timer is its own)
  --reporter         text (default, on the terminal), json (for scripts) or junit (JUnit XML for CI and autograders)
  --out FILE         write the json or junit report to FILE; the terminal still gets the text
  --project DIR      the project whose firmware and wiring run (default: the one the current folder is in)
Exit code: 0 every scenario passed, 1 a scenario failed, 2 a scenario could not run (bad YAML, firmware that does
not start) or the command was used wrongly.`;

const REPORTERS = ["text", "json", "junit"] as const;
type Reporter = (typeof REPORTERS)[number];

/** The options of a run of scenarios, shared with esplab test. */
export const RUN_OPTIONS = {
  config: { type: "string" },
  continue: { type: "boolean", default: false },
  "real-time": { type: "boolean", default: false },
  reporter: { type: "string", default: "text" },
  out: { type: "string" },
  project: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { engine: { type: "string", default: "xs" }, ...RUN_OPTIONS }, allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let project: Project;
  try {
    project = values.project ? loadProject(values.project) : findProject();
  } catch (error) {
    // A project that cannot be read is a run that cannot happen: exit 2, as for a scenario that cannot run.
    if (!(error instanceof UsageError)) throw error;
    console.error(`esplab scenario: ${error.message}`);
    return 2;
  }
  const files = positionals.length || project.builtIn ? positionals : projectScenarios(project);
  if (files.length === 0) {
    console.log(USAGE);
    return 2;
  }
  return runScenarios(files, { ...values, project });
}

/** What a run of scenarios is told: the same options as the command line, already checked where they can be. */
export interface ScenarioRunOptions {
  engine?: string;
  config?: string;
  continue?: boolean;
  "real-time"?: boolean;
  reporter?: string;
  out?: string;
  project: Project;
}

/** Runs scenario files and reports them; the exit code says passed (0), failed (1) or could not run (2). */
export async function runScenarios(positionals: string[], values: ScenarioRunOptions): Promise<number> {
  const { project } = values;
  const engine = requireEngine(values.engine ?? "xs");
  if (!REPORTERS.includes(values.reporter as Reporter)) throw new UsageError("REPORTER", `--reporter must be ${REPORTERS.join(", ")}; got "${values.reporter}"`);
  const reporter = (values.reporter ?? "text") as Reporter;
  if (values.out && reporter === "text") throw new UsageError("REPORTER", "--out writes a json or junit report: add --reporter json or --reporter junit");
  for (const file of positionals) if (!fs.existsSync(file)) throw new UsageError("NO_FILE", `no scenario file ${file}`);
  const config = loadLaptopConfig({ file: values.config, cwd: project.builtIn ? undefined : project.root });
  // The text goes to the terminal, unless the report itself goes to stdout.
  const text = reporter !== "text" && !values.out ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);

  const outcomes: ScenarioOutcome[] = [];
  for (const file of positionals) {
    const shown = path.relative(process.cwd(), file) || file;
    const started = performance.now();
    text(`\n${shown}  (engine: ${engine})`);
    let steps: ScenarioOutcome["steps"] = [];
    let name = shown;
    try {
      const scenario = parseScenario(fs.readFileSync(file, "utf8"), shown);
      steps = scenario.steps;
      name = scenario.name;
      const { result } = await runScenarioFile(file, {
        engine,
        project,
        config,
        continue: values.continue,
        realTime: values["real-time"],
        onStep: (step) => {
          const mark = step.ok ? "✓" : "✗";
          text(`  ${mark} line ${String(step.step.line).padEnd(3)} ${describeStep(step.step).padEnd(38)} ${step.message.split("\n")[0]}`);
          for (const more of step.message.split("\n").slice(1)) text(`    ${more}`);
          if (step.ok) for (const entry of step.diagnostics) text(`      ${describeDiagnostic(entry)}`);
        },
      });
      const seconds = (performance.now() - started) / 1000;
      const points = result.points ? `, ${formatPoints(result.score)}/${formatPoints(result.points)} points` : "";
      const stepSeconds = result.results.reduce((sum, step) => sum + step.ms, 0) / 1000;
      const took = values["real-time"] || engine === "moddable" ? `${seconds.toFixed(1)} s` : `${stepSeconds.toFixed(1)} s of virtual time in ${seconds.toFixed(1)} s`;
      text(result.passed ? `  passed: ${name} (${took}${points})` : `  FAILED: ${name} (${took}${points})`);
      outcomes.push({ file: shown, name, engine, status: result.passed ? "passed" : "failed", seconds, steps, result });
    } catch (error) {
      // One scenario that cannot run (bad YAML, firmware that does not start) costs only its own row.
      const message = error instanceof Error ? error.message : String(error);
      text(`  COULD NOT RUN: ${message}`);
      outcomes.push({ file: shown, name, engine, status: "error", seconds: (performance.now() - started) / 1000, steps, error: message });
    }
  }
  text(`\n${summaryLine(outcomes)}`);
  if (reporter !== "text") {
    const report = reporter === "json" ? jsonReport(outcomes) : junitReport(outcomes);
    if (values.out) fs.writeFileSync(values.out, report.endsWith("\n") ? report : `${report}\n`);
    else process.stdout.write(report.endsWith("\n") ? report : `${report}\n`);
  }
  if (outcomes.some((outcome) => outcome.status === "error")) return 2;
  return outcomes.some((outcome) => outcome.status === "failed") ? 1 : 0;
}
