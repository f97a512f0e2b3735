/**
 * A publishing device for the fault soak, in its own process so it can be killed with SIGKILL: the telemetry
 * firmware on a virtual board, with Storage in a file (the sequence counter and the MQTT queue survive a kill, as
 * they survive a reset in NVS). Prints the board's serial log on stdout.
 *
 * usage: node --import tsx bench/soak/device-process.ts '<firmware config JSON>' <storage file> [engine]
 */
import { FileStorage } from "../../host-tools/platform/file-storage.ts";
import { requireEngine, VirtualDevice } from "../../host-tools/runtime/virtual-device.ts";

const [configJson, storageFile, engine = "node"] = process.argv.slice(2);
if (!configJson || !storageFile) {
  console.error("usage: device-process.ts '<config JSON>' <storage file> [engine]");
  process.exit(2);
}
const device = new VirtualDevice({ config: JSON.parse(configJson) as Record<string, string | number>, storage: new FileStorage(storageFile), engine: requireEngine(engine) });
device.serial.listen((line) => console.log(line.text));
process.once("SIGTERM", () => {
  void device.stop().finally(() => process.exit(0));
});
await device.start();
console.log("device: started");
