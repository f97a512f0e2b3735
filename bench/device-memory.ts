/**
 * What the firmware needs of the ESP32's memory, measured where it can be: xsl's link of the device image (slots
 * preloaded into flash) and every shipped scenario run on Moddable's own runtime for Linux (the VM's stack high-water
 * mark, and the slots and chunk bytes alive after a full collection once the scenario's steps are done). Compared
 * with the manifest's creation block and with FIRMWARE_NEEDS, the figures the device build checks against.
 * The peer: the same bundle in xsnap, where nothing is preloaded, shows what preloading saves in RAM.
 * Run: npx tsx bench/device-memory.ts [SCENARIO…]   (needs Moddable's tools: $MODDABLE or `esplab moddable setup`)
 */
import fs from "node:fs";
import path from "node:path";
import { buildForDevice } from "../host-tools/build/device-build.ts";
import { buildFirmwareBundle } from "../host-tools/build/firmware-bundle.ts";
import { ESP32_SLOT_BYTES } from "../host-tools/moddable/device-image.ts";
import { FIRMWARE_NEEDS, MARGIN } from "../host-tools/moddable/memory-budget.ts";
import type { ModdableMemory } from "../host-tools/moddable/moddable-engine.ts";
import { findModdable, moddableProblem } from "../host-tools/moddable/sdk.ts";
import { VirtualClock } from "../host-tools/platform/virtual-clock.ts";
import { VirtualDevice } from "../host-tools/runtime/virtual-device.ts";
import { runScenarioFile } from "../host-tools/scenario/session.ts";
import { XsHost } from "../host-tools/xs/xs-host.ts";

if (!findModdable()) {
  console.error(`bench/device-memory: ${moddableProblem()}`);
  process.exit(2);
}

const root = path.resolve(import.meta.dirname, "..");
const scenarioDir = path.join(root, "test", "scenarios");
const files = process.argv.length > 2 ? process.argv.slice(2) : fs.readdirSync(scenarioDir).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(scenarioDir, f));

await buildFirmwareBundle("device");
fs.mkdirSync(path.join(root, "build"), { recursive: true });
const { image } = await buildForDevice({ debug: false, config: {}, log: () => {}, outputDir: fs.mkdtempSync(path.join(root, "build", "bench-")) });
const creation = image.creation;

// The peer: module objects built in RAM when nothing is preloaded (xsnap loads the whole bundle as a script).
const xsnapModuleSlots = await (async () => {
  const host = new XsHost(new VirtualDevice({ config: {}, clock: new VirtualClock() }).platform);
  await host.evaluate(fs.readFileSync(await buildFirmwareBundle("xs"), "utf8"));
  const meters = await host.collectGarbage();
  await host.close();
  return meters.currentHeapCount;
})();

const rows: { scenario: string; passed: boolean; memory: ModdableMemory }[] = [];
for (const file of files) {
  let memory: ModdableMemory | undefined;
  const { result } = await runScenarioFile(file, { engine: "moddable", afterSteps: async (device) => void (memory = await device.moddableMemory()) });
  if (memory) rows.push({ scenario: path.basename(file, ".yaml"), passed: result.passed, memory });
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
console.log(`Device image (xsl): ${image.flashSlots} slots preloaded into flash (${kb(image.flashSlots * ESP32_SLOT_BYTES)} at ${ESP32_SLOT_BYTES} B/slot), ${image.aliases} aliases; not preloaded: ${image.notPreloaded.join(", ")}`);
console.log(`Peer, nothing preloaded (xsnap): ${xsnapModuleSlots} slots of module objects in RAM before any app starts (${kb(xsnapModuleSlots * ESP32_SLOT_BYTES)} on the ESP32)\n`);
console.log("| scenario (app) | passed | stack peak / creation.stack | RAM slots alive after | RAM slots peak | chunk bytes alive (Linux) |");
console.log("|---|---|---|---|---|---|");
for (const { scenario, passed, memory } of rows) {
  console.log(`| ${scenario} | ${passed ? "yes" : "NO"} | ${memory.stackPeakSlots} / ${memory.stackSlots} | ${memory.heapSlots} | ${memory.heapPeakSlots} | ${memory.chunkBytes} |`);
}
const worst = {
  stack: Math.max(...rows.map((r) => r.memory.stackPeakSlots)),
  heap: Math.max(...rows.map((r) => r.memory.heapSlots)),
  chunks: Math.max(...rows.map((r) => r.memory.chunkBytes)),
};
const staticNeed = (creation.stackCount + worst.heap) * ESP32_SLOT_BYTES + worst.chunks;
console.log(`
Largest: stack ${worst.stack} slots, ${worst.heap} slots and ${worst.chunks} chunk bytes alive.
FIRMWARE_NEEDS (what the device build checks): stack ${FIRMWARE_NEEDS.stackSlots}, slots ${FIRMWARE_NEEDS.bootHeapSlots}, chunk bytes ${FIRMWARE_NEEDS.bootChunkBytes}${worst.stack > FIRMWARE_NEEDS.stackSlots || worst.heap > FIRMWARE_NEEDS.bootHeapSlots || worst.chunks > FIRMWARE_NEEDS.bootChunkBytes ? "  ← EXCEEDED: raise them and creation" : ""}
creation: stack ${creation.stackCount} (margin ${Math.round((creation.stackCount / worst.stack - 1) * 100)} % over the peak; ${MARGIN * 100} % required), static ${creation.staticSize} bytes for stack + live slots + chunks = ${staticNeed} bytes at 16 B/slot (margin ${Math.round((creation.staticSize / staticNeed - 1) * 100)} %; chunk bytes are Linux's, an upper bound)`);
