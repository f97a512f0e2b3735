import path from "node:path";
import { parseArgs } from "node:util";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { UsageError } from "../../firmware/core/errors.ts";
import { BackgroundBuilder } from "../build/background-builder.ts";
import { irSensorSettings, partControls } from "../lab/controls.ts";
import { LAB_WIRING } from "../board/index.ts";
import { FirmwareRunner, type FirmwareStatus } from "../lab/firmware-runner.ts";
import { LabServer } from "../lab/server.ts";
import { watchSources } from "../lab/source-watcher.ts";
import { databaseFeed, mqttFeed, readingsFeed } from "../lab/feeds.ts";
import { startLocalCloud } from "../cloud/index.ts";
import { withDemoTokens } from "../cloud/demo-tokens.ts";
import { describeConfig, loadLaptopConfig } from "../runtime/laptop-config.ts";
import { requireEngine, VirtualDevice } from "../runtime/virtual-device.ts";
import { FileStorage } from "../platform/file-storage.ts";

const USAGE = `usage: esplab lab [--port N] [--engine xs|node|moddable] [--app NAME] [--config FILE]

Runs the firmware on the virtual board with the local cloud and serves the lab page on 127.0.0.1.
  --port N        the page's port (default 8080; 0 picks a free one)
  --engine E      xs (default): the firmware runs in Moddable's XS engine, as on the ESP32, and reloads when you
                  edit firmware/; node: runs in Node; moddable: on Moddable's own runtime for Linux (the
                  device's linker, stack limit, Timer, Preference and sockets; needs Moddable's tools)
  --app NAME      which firmware app to run (overrides the config's "app")
  --config FILE   settings file (default ./esplab.config.json; ESPLAB_<KEY> variables override it)
  --state DIR     where the lab keeps its database, readings and device storage (default .esplab/ in the project)`;

const ROOT = path.resolve(import.meta.dirname, "../..");

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "8080" },
      engine: { type: "string", default: "xs" },
      app: { type: "string" },
      config: { type: "string" },
      state: { type: "string" },
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

  const stateDir = path.resolve(values.state ?? path.join(ROOT, ".esplab"));
  const cloud = await startLocalCloud({
    databasePort: 0,
    authPort: 0,
    mqttPort: 0,
    dataDir: path.join(stateDir, "lab-cloud"),
  });
  // The lab's cloud first, then the user's settings: a configured real Firebase project or broker wins.
  // The page's IR sensor choice, over the settings until the lab stops.
  let irChoice: FlatConfig = {};
  const settings = (): Promise<FlatConfig> =>
    withDemoTokens(cloud, { ...cloud.firmwareConfig, app: "assignment2", ...loadLaptopConfig({ file: values.config }), ...(values.app ? { app: values.app } : {}), ...irChoice });
  const config = await settings();
  const storage = new FileStorage(path.join(stateDir, "lab-storage.json"));
  const device = new VirtualDevice({ config, engine, storage });
  // The XS engine runs a bundle built on a worker thread; node and moddable load the firmware themselves.
  const builder = device.engine === "xs" ? new BackgroundBuilder() : undefined;
  builder?.warm();
  const firmware = new FirmwareRunner({ device, build: builder && (() => builder.build("xs", { root: ROOT })), settings });
  const server = new LabServer({
    device: () => device,
    controls: {
      ...partControls(() => device, () => firmware.reset()),
      publish: (topic, payload) => cloud.mqtt.publish(topic, payload, { qos: 1 }),
      clearDatabase: () => cloud.firebase.database.adminSet(cloud.namespace, "/", null),
      irKind: (kind) => {
        irChoice = irSensorSettings(LAB_WIRING, kind);
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

  const stopWatching = builder ? watchSources([path.join(ROOT, "firmware")], () => firmware.rebuild(), 150) : () => undefined;
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
    const message = status.problem.message.startsWith("the firmware") ? status.problem.message : `${what}: ${status.problem.message}`;
    const next = status.problem.kind === "build" ? "save a fix and the lab rebuilds" : "fix it and save, or fix the settings and press Reset";
    console.error(`${message}${status.problem.frame ? `\n${status.problem.frame}` : ""}\n(the page shows it too; ${next})`);
  }
}
