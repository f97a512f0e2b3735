import path from "node:path";
import { parseArgs } from "node:util";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { UsageError } from "../../firmware/core/errors.ts";
import { BackgroundBuilder } from "../build/background-builder.ts";
import { irSensorSettings, partControls } from "../lab/controls.ts";
import { FirmwareRunner, type FirmwareStatus } from "../lab/firmware-runner.ts";
import { LabServer } from "../lab/server.ts";
import { watchSources } from "../lab/source-watcher.ts";
import { databaseFeed, mqttFeed, readingsFeed } from "../lab/feeds.ts";
import { startLocalCloud } from "../cloud/index.ts";
import { withDemoTokens } from "../cloud/demo-tokens.ts";
import { describeConfig, loadLaptopConfig } from "../runtime/laptop-config.ts";
import { requireEngine, VirtualDevice } from "../runtime/virtual-device.ts";
import { FileStorage } from "../platform/file-storage.ts";
import { findProject, loadProject } from "../project/project.ts";
import { firmwareWiringConfig, projectWiring } from "../project/wiring-file.ts";

const USAGE = `usage: esplab lab [--port N] [--engine xs|node|moddable] [--app NAME] [--config FILE] [--project DIR]

Runs the firmware on the virtual board with the local cloud and serves the lab page on 127.0.0.1. In your own
project (esplab new) that is your app on the board of your wiring file; in esplab's checkout, the course's apps.
  --port N        the page's port (default 8080; 0 picks a free one)
  --engine E      xs (default): the firmware runs in Moddable's XS engine, as on the ESP32, and reloads when you
                  edit the firmware; node: runs in Node; moddable: on Moddable's own runtime for Linux (the
                  device's linker, stack limit, Timer, Preference and sockets; needs Moddable's tools)
  --app NAME      which firmware app to run (overrides the config's "app")
  --config FILE   settings file (default: the project's esplab.config.json; ESPLAB_<KEY> variables override it)
  --state DIR     where the lab keeps its database, readings and device storage (default .esplab/ in the project)
  --project DIR   the project to run (default: the one the current folder is in)`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "8080" },
      engine: { type: "string", default: "xs" },
      app: { type: "string" },
      config: { type: "string" },
      state: { type: "string" },
      project: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const engine = requireEngine(values.engine);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("PORT", `--port must be 0–65535, got "${values.port}"`);

  const project = values.project ? loadProject(values.project) : findProject();
  const wiring = projectWiring(project);
  const configFile = { file: values.config, cwd: project.builtIn ? undefined : project.root };
  const stateDir = path.resolve(values.state ?? project.stateDir);
  const cloud = await startLocalCloud({
    databasePort: 0,
    authPort: 0,
    mqttPort: 0,
    dataDir: path.join(stateDir, "lab-cloud"),
  });
  // The lab's cloud and the wiring's pins first, then the user's settings (a configured real Firebase project or
  // broker wins), then the page's IR sensor choice, until the lab stops. An app the project does not have is
  // the firmware's start-up error, on the page.
  let irChoice: FlatConfig = {};
  const settings = (): Promise<FlatConfig> => {
    const laptop = loadLaptopConfig(configFile);
    const app = values.app ?? (laptop.app === undefined ? undefined : String(laptop.app)) ?? project.defaultApp ?? "assignment2";
    return withDemoTokens(cloud, { ...cloud.firmwareConfig, ...firmwareWiringConfig(wiring.description), ...laptop, app, ...irChoice });
  };
  const config = await settings();
  const storage = new FileStorage(path.join(stateDir, "lab-storage.json"));
  const device = new VirtualDevice({ config, engine, storage, project, wiring: wiring.description });
  for (const warning of wiring.warnings) device.board.diagnostics.report("wiring", "warning", warning);
  // The XS engine runs a bundle built on a worker thread; node and moddable load the firmware themselves.
  const builder = device.engine === "xs" ? new BackgroundBuilder() : undefined;
  builder?.warm();
  const firmware = new FirmwareRunner({ device, build: builder && (() => builder.build("xs", project)), settings });
  const server = new LabServer({
    device: () => device,
    controls: {
      ...partControls(() => device, () => firmware.reset()),
      publish: (topic, payload) => cloud.mqtt.publish(topic, payload, { qos: 1 }),
      clearDatabase: () => cloud.firebase.database.adminSet(cloud.namespace, "/", null),
      irKind: (kind) => {
        irChoice = irSensorSettings(wiring.description, kind);
        return firmware.reset();
      },
    },
    feeds: [
      databaseFeed(cloud),
      readingsFeed(cloud, () => String(device.config.device_id ?? "Device001"), () => (device.config.app === "telemetry" ? "mqtt" : "database")),
      mqttFeed(cloud),
    ],
    firmware,
  });

  console.log(`esplab lab — firmware on the virtual board in ${{ xs: "Moddable XS", node: "Node", moddable: "Moddable's runtime for Linux" }[device.engine]}, with the local cloud`);
  console.log(describeConfig(config).map((line) => `  ${line}`).join("\n"));
  device.serial.listen((line) => console.log(`serial  ${line.text}`));
  firmware.listen(printStatus);
  const url = await server.listen(port).catch(async (error: NodeJS.ErrnoException) => {
    await builder?.close();
    await cloud.close();
    if (error.code === "EADDRINUSE") throw new UsageError("PORT", `port ${port} is in use (another lab?): stop it, or run npx esplab lab --port ${port + 1}`);
    throw error;
  });
  console.log(`
  Lab page:          ${url}
  Realtime Database  ${cloud.firebase.databaseUrl}/?ns=${cloud.namespace}
  Auth               ${cloud.firebase.authUrl}
  MQTT broker        ${cloud.mqtt.url}
  Keypad password    ${cloud.demoUser.password}, then # (the local demo account ${cloud.demoUser.email})

Ctrl-C stops everything.`);

  const stopWatching = builder ? watchSources([project.sourceDir], () => firmware.rebuild(), 150) : () => undefined;
  void firmware.rebuild();

  let stopping = false;
  // Ctrl-C in the terminal signals the engine's processes too, and their pipes then break under this one: expected
  // while stopping, so it is not reported as a crash. The break can arrive just before the signal does.
  const quietWhileStopping = (error: NodeJS.ErrnoException) => {
    const pipe = error.code === "ECONNRESET" || error.code === "EPIPE";
    if (pipe && stopping) return;
    setTimeout(() => {
      if (pipe && stopping) return;
      console.error(error);
      process.exit(1);
    }, pipe ? 250 : 0);
  };
  process.on("uncaughtException", quietWhileStopping);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  stopping = true;
  console.log("\nstopping…");
  stopWatching();
  await server.close();
  await firmware.stop();
  await builder?.close();
  await cloud.close();
  process.off("uncaughtException", quietWhileStopping);
  return 0;
}

function printStatus(status: FirmwareStatus): void {
  if (status.state === "building") console.log("firmware changed: building…");
  else if (status.state === "resetting") console.log("resetting the board…");
  else if (status.state === "running") console.log("firmware running");
  else if (status.problem) {
    const what = status.problem.kind === "build" ? "the firmware does not build" : "the firmware did not start";
    const said = status.problem.hint ? `${status.problem.message}\n  ${status.problem.hint}` : status.problem.message;
    const message = said.startsWith("the firmware") ? said : `${what}: ${said}`;
    const next = status.problem.kind === "build" ? "save a fix and the lab rebuilds" : "fix it and save, or fix the settings and press Reset";
    console.error(`${message}${status.problem.frame ? `\n${status.problem.frame}` : ""}\n(the page shows it too; ${next})`);
  }
}
