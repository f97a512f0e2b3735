import fs from "node:fs";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { VirtualDevice, type Engine } from "../runtime/virtual-device.ts";
import { parseScenario, type Scenario } from "./parse.ts";
import { runScenario, type ScenarioResult, type ScenarioWorld, type StepResult } from "./run.ts";

/** Runs one scenario file on a fresh virtual device; the device is stopped afterwards, whatever happens. */
export async function runScenarioFile(
  file: string,
  options: { engine?: Engine; config?: FlatConfig; world?: Omit<ScenarioWorld, "device">; onStep?: (result: StepResult) => void } = {},
): Promise<{ scenario: Scenario; result: ScenarioResult; device: VirtualDevice }> {
  const scenario = parseScenario(fs.readFileSync(file, "utf8"), file);
  const device = new VirtualDevice({ config: { ...options.config, ...scenario.config }, engine: options.engine ?? "node" });
  try {
    await device.start();
    const result = await runScenario(scenario, { ...options.world, device }, options.onStep);
    return { scenario, result, device };
  } finally {
    await device.stop();
  }
}
