import path from "node:path";
import { parseArgs } from "node:util";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { UsageError } from "../../firmware/core/errors.ts";
import { partControls } from "../lab/controls.ts";
import { LabServer } from "../lab/server.ts";
import { watchSources } from "../lab/source-watcher.ts";
import { databaseFeed, mqttFeed, readingsFeed } from "../lab/feeds.ts";
import { startLocalCloud } from "../cloud/index.ts";
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
  const config: FlatConfig = { ...cloud.firmwareConfig, app: "assignment2", ...loadLaptopConfig({ file: values.config }) };
  if (values.app) config.app = values.app;
  const storage = new FileStorage(path.join(stateDir, "lab-storage.json"));
  const device = new VirtualDevice({ config, engine, storage });
  const server = new LabServer({
    device: () => device,
    controls: { ...partControls(() => device, () => device.restart()), publish: (topic, payload) => cloud.mqtt.publish(topic, payload, { qos: 1 }) },
    feeds: [databaseFeed(cloud), readingsFeed(cloud, () => String(config.device_id ?? "Device001")), mqttFeed(cloud)],
  });

  console.log(`esplab lab — firmware on the virtual board in ${{ xs: "Moddable XS", node: "Node", moddable: "Moddable's runtime for Linux" }[device.engine]}, with the local cloud`);
  console.log(describeConfig(config).map((line) => `  ${line}`).join("\n"));
  device.serial.listen((line) => console.log(`serial  ${line.text}`));
  await device.start();
  const url = await server.listen(port).catch(async (error: NodeJS.ErrnoException) => {
    await device.stop();
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

  const stopWatching = device.engine !== "node" ? watchSources([path.join(ROOT, "firmware")], async () => {
    console.log("firmware changed: rebuilding and resetting the board…");
    try {
      await device.restart();
    } catch (error) {
      console.error(`the firmware did not start: ${(error as Error).message}`);
    }
  }) : () => undefined;

  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  console.log("\nstopping…");
  stopWatching();
  await server.close();
  await device.stop();
  await cloud.close();
  return 0;
}
