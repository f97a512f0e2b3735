import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildFirmwareBundle } from "../build/firmware-bundle.ts";
import { buildForDevice, requireModdable } from "../build/device-build.ts";
import { ESP32_SLOT_BYTES } from "../moddable/device-image.ts";
import { FIRMWARE_NEEDS, MARGIN } from "../moddable/memory-budget.ts";
import { findProject, loadProject } from "../project/project.ts";

const USAGE = `usage: esplab build [--device esp32] [--debug] [--project DIR] [key=value ...]

Bundles the firmware, type-checked as device code (in esplab's checkout dist/firmware/ for the device and
dist/xs/firmware.js for the XS engine on the laptop; in your own project, build/firmware/ and build/xs/).
With --device esp32, then builds the device images with Moddable's mcconfig for "esplab flash". That needs the
Moddable SDK ($MODDABLE, or "esplab moddable setup") and ESP-IDF; with the SDK alone, the image is still compiled,
linked and preloaded by xsl and its memory checked, and the command says what is missing for the rest. key=value pairs are passed to mcconfig as config (e.g. ssid=MyWiFi); put secrets in the
environment: ESPLAB_WIFI_PASSWORD is passed as password=… without being printed.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { device: { type: "string" }, debug: { type: "boolean", default: false }, project: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.device !== undefined && values.device !== "esp32") {
    console.error(`esplab build: --device ${values.device} is not supported; esplab builds for esp32`);
    return 2;
  }
  const config: Record<string, string> = {};
  for (const pair of positionals) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      console.error(`esplab build: "${pair}" is not key=value`);
      return 2;
    }
    config[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (process.env.ESPLAB_WIFI_SSID && !config.ssid) config.ssid = process.env.ESPLAB_WIFI_SSID;
  if (process.env.ESPLAB_WIFI_PASSWORD && !config.password) config.password = process.env.ESPLAB_WIFI_PASSWORD;

  // Say what is missing before spending time on the bundle.
  if (values.device) {
    try {
      requireModdable();
    } catch (error) {
      console.error(`esplab build: ${(error as Error).message}`);
      return 3;
    }
  }
  const project = values.project ? loadProject(values.project) : findProject();
  for (const target of ["device", "xs"] as const) {
    const file = await buildFirmwareBundle(target, project);
    console.log(`${path.relative(process.cwd(), file)}  ${fs.statSync(file).size} bytes`);
  }
  if (!values.device) return 0;
  const { image, build, missing } = await buildForDevice({ debug: values.debug, config, project, log: (line) => console.log(line) });
  const kb = (slots: number) => `${Math.round((slots * ESP32_SLOT_BYTES) / 1024)} KB`;
  console.log(`\nDevice image linked by xsl: ${image.flashSlots} slots in flash (${kb(image.flashSlots)}), ${image.aliases} aliases, ${image.modules.length} modules; not preloaded (built in RAM at boot): ${image.notPreloaded.join(", ") || "none"}`);
  console.log(`creation: stack ${image.creation.stackCount} slots, heap ${image.creation.initialHeapCount} slots, chunks ${image.creation.initialChunkSize} bytes, static ${image.creation.staticSize} bytes`);
  console.log(`fits what the firmware needs (measured on Moddable's runtime, +${MARGIN * 100} %): stack ${FIRMWARE_NEEDS.stackSlots} slots, ${FIRMWARE_NEEDS.bootHeapSlots} slots and ${FIRMWARE_NEEDS.bootChunkBytes} chunk bytes alive after boot`);
  if (!build) {
    console.error(`\nesplab build: the image is checked, but no flashable images were made: ${missing}`);
    return 3;
  }
  console.log(`\nESP32 images in ${build.directory}:`);
  for (const image of build.images) console.log(`  0x${image.address.toString(16).padStart(5, "0")}  ${image.name}`);
  console.log(`\nFlash them with: npx esplab flash -p <port>`);
  return 0;
}
