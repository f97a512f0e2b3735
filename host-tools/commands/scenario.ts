import path from "node:path";
import { parseArgs } from "node:util";
import { loadLaptopConfig } from "../runtime/laptop-config.ts";
import { requireEngine } from "../runtime/virtual-device.ts";
import { describeDiagnostic } from "../scenario/run.ts";
import { runScenarioFile } from "../scenario/session.ts";
import type { Step } from "../scenario/parse.ts";

const USAGE = `usage: esplab scenario FILE... [--engine node|xs|moddable] [--config FILE]

Runs scenario files (YAML: press keys, set the IR sensors, expect LCD text, servo angles, database values, MQTT
messages, serial output) headless on the virtual board. Exit code 0 when every scenario passes, 1 otherwise.
The shipped ones are in test/scenarios/.
  --engine node      the firmware in Node (fastest; for debugging)
  --engine xs        in the XS engine (xsnap), as the ESP32 runs it, every seam bridged to the laptop
  --engine moddable  on Moddable's own runtime for Linux: the device's linker (preloaded, frozen built-ins), stack
                     limit, Timer, Preference and sockets; only pins and buses are the virtual board's. Needs
                     Moddable's tools ($MODDABLE, or "esplab moddable setup")`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { engine: { type: "string", default: "node" }, config: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const engine = requireEngine(values.engine);
  const config = loadLaptopConfig({ file: values.config });
  let failed = 0;
  for (const file of positionals) {
    const started = performance.now();
    console.log(`\n${path.relative(process.cwd(), file)}  (engine: ${engine})`);
    const { scenario, result } = await runScenarioFile(file, {
      engine,
      config,
      onStep: (step) => {
        const mark = step.ok ? "✓" : "✗";
        console.log(`  ${mark} line ${String(step.step.line).padEnd(3)} ${describeStep(step.step).padEnd(38)} ${step.message.split("\n")[0]}`);
        for (const more of step.message.split("\n").slice(1)) console.log(`    ${more}`);
        if (step.ok) for (const entry of step.diagnostics) console.log(`      ${describeDiagnostic(entry)}`);
      },
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(result.passed ? `  passed: ${scenario.name} (${seconds} s)` : `  FAILED: ${scenario.name} (${seconds} s)`);
    if (!result.passed) failed++;
  }
  if (positionals.length > 1) console.log(`\n${positionals.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

function describeStep(step: Step): string {
  switch (step.kind) {
    case "press":
      return `press ${step.keys.join("")}`;
    case "set":
      return `set ${step.distanceCm !== undefined ? `distance ${step.distanceCm}` : ""}${step.obstacle !== undefined ? ` obstacle ${step.obstacle}` : ""}`.trim();
    case "wait":
      return `wait ${step.ms} ms`;
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
