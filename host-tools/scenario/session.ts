import fs from "node:fs";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { pathSegments } from "../../firmware/net/firebase/values.ts";
import type { Clock } from "../../firmware/ports/clock.ts";
import { startLocalCloud, type LocalCloud } from "../cloud/index.ts";
import { withDemoPlaceholders } from "../cloud/demo-tokens.ts";
import { toWire, withoutPriorities } from "../cloud/firebase/database-server.ts";
import { NodeTransport } from "../platform/node-transport.ts";
import { SystemClock } from "../platform/system-clock.ts";
import { VirtualClock } from "../platform/virtual-clock.ts";
import { VirtualDevice, type Engine } from "../runtime/virtual-device.ts";
import { chooseApp, esplabProject, type Project } from "../project/project.ts";
import { firmwareWiringConfig, projectWiring } from "../project/wiring-file.ts";
import { parseScenario, type Scenario } from "./parse.ts";
import { Quiescence } from "./quiescence.ts";
import { runScenario, type ScenarioResult, type ScenarioWorld, type StepResult } from "./run.ts";
import { realTime, virtualTime, type ScenarioTime } from "./scenario-time.ts";

/** Where a scenario's virtual clock starts on the calendar (2026-01-01T00:00:00Z), so timestamps repeat run to run. */
export const SCENARIO_EPOCH_MS = Date.UTC(2026, 0, 1);

export interface ScenarioFileOptions {
  engine?: Engine;
  /** Whose firmware and board (default: esplab's apps on the lab's board). */
  project?: Project;
  config?: FlatConfig;
  world?: Omit<ScenarioWorld, "device">;
  onStep?: (result: StepResult) => void;
  /** Run every step even after one fails (partial credit). */
  continue?: boolean;
  /**
   * The clock of the board and the firmware (a test passes a broken one to check that a driver bug is caught). A
   * VirtualClock runs the scenario in virtual time; any other clock, in real time.
   */
  clock?: Clock;
  /** With the XS engine: the firmware bundle to run (built once by the caller), instead of building it for this run. */
  bundleFile?: string;
  /** The laptop's clock instead of virtual time, to watch a run live. The Moddable engine always runs so. */
  realTime?: boolean;
  /** Runs once the firmware has started, before the first step (to time the steps alone, for one). */
  beforeSteps?: (device: VirtualDevice) => Promise<void>;
  /** Runs after the last step, while the firmware still runs (to measure it, for one). */
  afterSteps?: (device: VirtualDevice) => Promise<void>;
}

/**
 * Runs one scenario file on a fresh virtual device; the device is stopped afterwards, whatever happens.
 *
 * On the Node and XS engines the scenario keeps virtual time: one VirtualClock is the firmware's Clock seam (in XS,
 * through the bridge), the board's and every part model's clock, and the local cloud's (server timestamps, token
 * lifetimes, stream keep-alives); steps advance it instead of sleeping, and it moves only when the device is
 * quiescent (see Quiescence), so results and step times do not depend on CPU speed or load. Moddable's runtime keeps
 * its own Timer (see moddable-engine.ts), so there the scenario runs in real time.
 */
export async function runScenarioFile(
  file: string,
  options: ScenarioFileOptions = {},
): Promise<{ scenario: Scenario; result: ScenarioResult; device: VirtualDevice }> {
  const scenario = parseScenario(fs.readFileSync(file, "utf8"), file);
  const project = options.project ?? esplabProject();
  // The board is the project's wiring, and the firmware drives the pins that wiring names unless a setting says otherwise.
  const wiring = projectWiring(project);
  const requested = scenario.config.app ?? options.config?.app;
  // A student's app name is checked against the apps the project registers before anything starts.
  const defaultApp = project.builtIn ? {} : { app: chooseApp(project, requested === undefined ? undefined : String(requested)) };
  const engine = options.engine ?? "node";
  const virtual = engine !== "moddable" && !options.realTime && (options.clock === undefined || options.clock instanceof VirtualClock);
  const clock = options.clock ?? (virtual ? new VirtualClock() : new SystemClock());
  if (clock instanceof VirtualClock && clock.epochMs() === undefined) clock.setEpoch(SCENARIO_EPOCH_MS);
  // Every scenario gets a fresh local cloud on free ports, in memory: runs never share or keep data.
  const cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0, clock: virtual ? clock : undefined });
  let device: VirtualDevice | undefined;
  const quiescence = virtual
    ? new Quiescence({
        engineIdle: async () => device?.idle(),
        engineBusy: () => device?.busy ?? false,
        onForeignPeer: (where) =>
          device?.serial.write(`esplab: ${where} is outside the local cloud; virtual time does not wait for its answers (run with --real-time against a real cloud)`),
      })
    : undefined;
  if (quiescence) {
    for (const server of [cloud.firebase.database.server, cloud.firebase.auth.server]) {
      // The device closes idle connections on its own (virtual) clock; a server closing them after 5 s of real time
      // would do so at a moment that depends on the machine's speed.
      server.keepAliveTimeout = 0;
    }
    // The broker's own timers stay on Node's: its keepalive drops a client silent for 1.5 x its keepalive (90 s for the
    // firmware's 60 s) of real time, which a device pinging on virtual time only reaches in a run slower than 2/3 of
    // real time for that long; its CONNECT timeout (30 s) never matters, as the device sends CONNECT at once.
    quiescence.watchServer(cloud.firebase.database.server, "the database");
    quiescence.watchServer(cloud.firebase.auth.server, "Auth");
    quiescence.watchServer(cloud.mqtt.server, "the MQTT broker");
  }
  const messages: { topic: string; payload: string }[] = [];
  cloud.mqtt.onPublish((message) => messages.push({ topic: message.topic, payload: message.payload }));
  const settings = { ...cloud.firmwareConfig, ...firmwareWiringConfig(wiring.description), ...defaultApp, ...options.config, ...scenario.config };
  try {
    const config = await withDemoPlaceholders(cloud, settings);
    device = new VirtualDevice({ config, engine, clock, project, wiring: wiring.description, transport: new NodeTransport({ onSocket: quiescence?.watchDeviceSocket }) });
    const started = device;
    const time: ScenarioTime = quiescence ? virtualTime(clock as VirtualClock, quiescence) : realTime(() => started.idle());
    await device.start(options.bundleFile);
    const world: ScenarioWorld = {
      device,
      time,
      // Read in the process, as the administrator: no request of the scenario's own on the network the device uses.
      readDatabase: async (path) => toWire(withoutPriorities(cloud.firebase.database.store(cloud.namespace).get(pathSegments(path)))),
      mqttMessages: () => messages,
      mqttPublish: (topic, payload, retain) => {
        quiescence?.noteActivity();
        return cloud.mqtt.publish(topic, payload, { qos: 1, retain });
      },
      ...options.world,
    };
    await options.beforeSteps?.(device);
    const result = await runScenario(scenario, world, { onStep: options.onStep, continue: options.continue });
    await options.afterSteps?.(device);
    return { scenario, result, device };
  } finally {
    await device?.stop();
    await cloud.close();
  }
}
