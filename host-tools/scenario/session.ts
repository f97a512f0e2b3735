import fs from "node:fs";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import type { Clock } from "../../firmware/ports/clock.ts";
import { startLocalCloud, type LocalCloud } from "../cloud/index.ts";
import { VirtualDevice, type Engine } from "../runtime/virtual-device.ts";
import { chooseApp, esplabProject, type Project } from "../project/project.ts";
import { firmwareWiringConfig, projectWiring } from "../project/wiring-file.ts";
import { parseScenario, type Scenario } from "./parse.ts";
import { runScenario, type ScenarioResult, type ScenarioWorld, type StepResult } from "./run.ts";

/** Runs one scenario file on a fresh virtual device; the device is stopped afterwards, whatever happens. */
export async function runScenarioFile(
  file: string,
  options: {
    engine?: Engine;
    /** Whose firmware and board (default: esplab's apps on the lab's board). */
    project?: Project;
    config?: FlatConfig;
    world?: Omit<ScenarioWorld, "device">;
    onStep?: (result: StepResult) => void;
    /** Run every step even after one fails (partial credit). */
    continue?: boolean;
    /** The clock of the board and the firmware (a test passes a broken one to check that a driver bug is caught). */
    clock?: Clock;
    /** Runs after the last step, while the firmware still runs (to measure it, for one). */
    afterSteps?: (device: VirtualDevice) => Promise<void>;
  } = {},
): Promise<{ scenario: Scenario; result: ScenarioResult; device: VirtualDevice }> {
  const scenario = parseScenario(fs.readFileSync(file, "utf8"), file);
  const project = options.project ?? esplabProject();
  // The board is the project's wiring, and the firmware drives the pins that wiring names unless a setting says otherwise.
  const wiring = projectWiring(project);
  const requested = scenario.config.app ?? options.config?.app;
  // A student's app name is checked against the apps the project registers before anything starts.
  const defaultApp = project.builtIn ? {} : { app: chooseApp(project, requested === undefined ? undefined : String(requested)) };
  // Every scenario gets a fresh local cloud on free ports, in memory: runs never share or keep data.
  const cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0 });
  const messages: { topic: string; payload: string }[] = [];
  cloud.mqtt.onPublish((message) => messages.push({ topic: message.topic, payload: message.payload }));
  const settings = { ...cloud.firmwareConfig, ...firmwareWiringConfig(wiring.description), ...defaultApp, ...options.config, ...scenario.config };
  let device: VirtualDevice | undefined;
  try {
    const config = await provisionTokens(cloud, settings);
    device = new VirtualDevice({ config, engine: options.engine ?? "node", clock: options.clock, project, wiring: wiring.description });
    await device.start();
    const world: ScenarioWorld = {
      device,
      readDatabase: async (path) => {
        const response = await fetch(`${cloud.firebase.databaseUrl}${path.replace(/\/+$/, "")}.json?ns=${cloud.namespace}`, { headers: { Authorization: "Bearer owner" } });
        return response.json();
      },
      mqttMessages: () => messages,
      mqttPublish: (topic, payload, retain) => cloud.mqtt.publish(topic, payload, { qos: 1, retain }),
      ...options.world,
    };
    const result = await runScenario(scenario, world, { onStep: options.onStep, continue: options.continue });
    await options.afterSteps?.(device);
    return { scenario, result, device };
  } finally {
    await device?.stop();
    await cloud.close();
  }
}

/**
 * A scenario may ask for the demo user's tokens with the value "{{demo.refreshToken}}" or "{{demo.idToken}}"
 * (Assignment 4's ID-token mode): the user is signed in on the laptop and the placeholders are filled in.
 */
async function provisionTokens(cloud: LocalCloud, config: FlatConfig): Promise<FlatConfig> {
  if (!Object.values(config).some((value) => typeof value === "string" && value.startsWith("{{demo."))) return config;
  const response = await fetch(`${cloud.firebase.authUrl}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=scenario`, {
    method: "POST",
    body: JSON.stringify({ email: cloud.demoUser.email, password: cloud.demoUser.password, returnSecureToken: true }),
  });
  const tokens = (await response.json()) as { idToken: string; refreshToken: string };
  const filled: FlatConfig = {};
  for (const [key, value] of Object.entries(config)) {
    filled[key] = value === "{{demo.refreshToken}}" ? tokens.refreshToken : value === "{{demo.idToken}}" ? tokens.idToken : value;
  }
  return filled;
}
