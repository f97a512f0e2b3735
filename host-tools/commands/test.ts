import path from "node:path";
import { parseArgs } from "node:util";
import { EsplabError } from "../../firmware/core/errors.ts";
import { buildFirmwareBundle } from "../build/firmware-bundle.ts";
import { findProject, loadProject, type Project } from "../project/project.ts";
import { projectWiring } from "../project/wiring-file.ts";
import { requireEngine } from "../runtime/virtual-device.ts";
import { projectScenarios, RUN_OPTIONS, runScenarios } from "./scenario.ts";

const USAGE = `usage: esplab test [--engine xs|node|moddable] [--continue] [--reporter text|json|junit] [--out FILE] [--project DIR]

What a project's "npm test" runs: type-checks the firmware as device code (Moddable's types: no Node, no DOM),
bundles it for both targets, reads its wiring, then runs every scenario in scenarios/ on the virtual board.
  --engine E      xs (default: the ESP32's engine), node (for debugging) or moddable (Moddable's own runtime)
  --continue, --reporter, --out   as for esplab scenario
Exit code: 0 all passed, 1 a scenario failed, 2 the firmware does not build or a scenario could not run.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { engine: { type: "string", default: "xs" }, ...RUN_OPTIONS } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  requireEngine(values.engine);
  let project: Project;
  try {
    project = values.project ? loadProject(values.project) : findProject();
    const wiring = projectWiring(project);
    for (const warning of wiring.warnings) console.log(`wiring: ${warning}`);
    // Both targets: the device's bundle may fail where the laptop's does not (a module only the device has).
    for (const target of ["xs", "device"] as const) {
      const file = await buildFirmwareBundle(target, project);
      console.log(`built ${path.relative(process.cwd(), file) || file} (type check passed)`);
    }
  } catch (error) {
    if (!(error instanceof EsplabError)) throw error;
    console.error(`esplab test: ${(error as Error).message}`);
    return 2;
  }
  const files = projectScenarios(project);
  if (files.length === 0) {
    console.log(`no scenarios in ${path.relative(process.cwd(), project.scenarioDir) || project.scenarioDir}: nothing more to run`);
    return 0;
  }
  return runScenarios(files, { ...values, project });
}
