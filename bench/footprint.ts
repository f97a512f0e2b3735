/**
 * Footprint of each firmware app inside the real XS engine (xsnap-worker, Moddable's XS): bundle size, heap after
 * start-up and after many reading cycles (it must not grow), and XS compute units (deterministic work) per cycle.
 * Time is virtual: each cycle advances the board clock by one app period. Run: npm run bench:footprint [-- CYCLES [APP]]
 */
import { execSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildFirmwareBundle } from "../host-tools/build/firmware-bundle.ts";
import { VirtualClock } from "../host-tools/platform/virtual-clock.ts";
import { VirtualDevice } from "../host-tools/runtime/virtual-device.ts";
import { XsHost } from "../host-tools/xs/xs-host.ts";
import { startMqttBroker } from "../host-tools/cloud/mqtt/broker.ts";
import type { FlatConfig } from "../firmware/apps/config.ts";

// Each 250 ms cycle of the lab apps includes 25 keypad scans (every 10 ms), ~600 calls across the XS bridge.
const CYCLES = Number(process.argv[2] ?? 500);
/** Source-bundle size (mcconfig compiles it to bytecode), live-heap growth, and XS work per 250 ms cycle (all timers in it). */
// One build carries every app: the assignments, and telemetry with the MQTT client and the AWS shadow (255 KB of source
// at 9bafce3, up from 153 KB before MQTT). The budget leaves room for one more app of that size, no more.
const BUDGETS = { deviceBundleBytes: 288 * 1024, heapGrowthSlots: 0, computePerCycle: 8_000_000 };
const HISTORY = path.resolve(import.meta.dirname, "../.esplab/footprint-history.json");

/**
 * The apps measured. telemetry talks to a real local broker: each cycle waits (in real time) until the broker has the
 * cycle's reading, so the queue is drained when the heap is measured. The Firebase apps wait for the keypad password
 * and are measured by the scenarios, not here.
 */
const ALL_APPS: { app: string; periodMs: number; config: FlatConfig; broker?: boolean }[] = [
  { app: "board-check", periodMs: 250, config: {} },
  { app: "board-check", periodMs: 250, config: { ir_kind: "distance" } },
  { app: "telemetry", periodMs: 250, config: { ir_kind: "distance", telemetry_interval_ms: 250 }, broker: true },
];
/** npm run bench:footprint -- CYCLES [APP]: one app only, e.g. a long run of board-check. */
const APPS = process.argv[3] ? ALL_APPS.filter((entry) => entry.app === process.argv[3]) : ALL_APPS;

interface Row {
  app: string;
  /** Slots after loading the bundle, before any app starts: module code, which a device build preloads into flash. */
  heapModules: number;
  deviceBundleBytes: number;
  xsBundleBytes: number;
  heapAfterStart: number;
  heapAfterCycles: number;
  computePerCycle: number;
}

const benchStart = performance.now();
const xsBundle = await buildFirmwareBundle("xs");
const deviceBundle = await buildFirmwareBundle("device");
const rows: Row[] = [];
const heapModules = await (async () => {
  const host = new XsHost(new VirtualDevice({ config: {}, clock: new VirtualClock() }).platform);
  await host.evaluate(fs.readFileSync(xsBundle, "utf8"));
  const meters = await host.collectGarbage();
  await host.close();
  return meters.currentHeapCount;
})();
for (const { app, periodMs, config, broker: needsBroker } of APPS) {
  const clock = new VirtualClock();
  const broker = needsBroker ? await startMqttBroker({ port: 0 }) : undefined;
  let readingsAtBroker = 0;
  let online = false;
  broker?.onPublish((message) => {
    if (message.topic.startsWith("sensor/")) readingsAtBroker++;
    if (message.topic.startsWith("status/") && message.payload === "online") online = true;
  });
  const device = new VirtualDevice({ config: { app, ...config, ...(broker ? { mqtt_url: broker.url } : {}) }, engine: "xs", clock });
  await device.start(xsBundle);
  if (broker) await realTimeUntil(() => online, "the device online at the broker");
  await clock.advance(periodMs * 4);
  await device.idle();
  /** With a broker, a cycle ends once the broker has its reading and the device has had the acknowledgement. */
  const settle = async () => {
    if (!broker) return device.idle();
    const expected = readingsAtBroker + 1;
    await realTimeUntil(() => readingsAtBroker >= expected, "the cycle's reading at the broker");
    await new Promise((resolve) => setTimeout(resolve, 1));
    await device.idle();
  };
  const heap = async () => {
    await device.idle();
    const meters = await device.collectGarbage();
    return meters.currentHeapCount;
  };
  const heapAfterStart = await heap();
  const computeBefore = device.computeTotal;
  for (let i = 0; i < CYCLES; i++) {
    await clock.advance(periodMs);
    await settle();
  }
  const compute = device.computeTotal - computeBefore;
  const heapAfterCycles = await heap();
  await device.stop();
  await broker?.close();
  rows.push({
    app: `${app}${"ir_kind" in config ? ` (${config.ir_kind})` : ""}`,
    heapModules,
    deviceBundleBytes: fs.statSync(deviceBundle).size,
    xsBundleBytes: fs.statSync(xsBundle).size,
    heapAfterStart,
    heapAfterCycles,
    computePerCycle: Math.round(compute / CYCLES),
  });
}

async function realTimeUntil(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited++) {
    if (waited > 10_000) throw new Error(`footprint: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const commit = (() => {
  try {
    return execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();
const history: Record<string, Row[]> = fs.existsSync(HISTORY) ? JSON.parse(fs.readFileSync(HISTORY, "utf8")) : {};
const previous = Object.entries(history).filter(([c]) => c !== commit).at(-1);

console.log(`XS footprint, ${CYCLES} reading cycles per app (virtual time), commit ${commit}, ${((performance.now() - benchStart) / 1000).toFixed(0)} s\n`);
console.log("app                      device bundle  heap after start  heap after cycles  growth  compute/cycle  budget");
let over = false;
for (const row of rows) {
  const growth = row.heapAfterCycles - row.heapAfterStart;
  const ok = row.deviceBundleBytes <= BUDGETS.deviceBundleBytes && growth <= BUDGETS.heapGrowthSlots && row.computePerCycle <= BUDGETS.computePerCycle;
  over ||= !ok;
  console.log(
    `${row.app.padEnd(24)} ${`${(row.deviceBundleBytes / 1024).toFixed(1)} KB`.padStart(13)}  ${String(row.heapAfterStart).padStart(16)}  ${String(row.heapAfterCycles).padStart(17)}  ${String(growth).padStart(6)}  ${String(row.computePerCycle).padStart(13)}  ${ok ? "ok" : "OVER"}`,
  );
  const before = previous?.[1].find((r) => r.app === row.app);
  if (before) console.log(`  previous (${previous![0]}): bundle ${(before.deviceBundleBytes / 1024).toFixed(1)} KB, heap ${before.heapAfterStart}, compute/cycle ${before.computePerCycle}`);
}
// What the app itself keeps alive, beyond the module code; the manifest's creation.heap is sized from the largest.
const appHeap = Math.max(...rows.map((row) => row.heapAfterCycles - row.heapModules));
console.log(`\nmodule code alone: ${heapModules} slots; the largest app keeps ${appHeap} slots (${((appHeap * 16) / 1024).toFixed(0)} KB at 16 B a slot) on top`);
console.log(`\nbudgets: device bundle ≤ ${BUDGETS.deviceBundleBytes / 1024} KB, heap growth ≤ ${BUDGETS.heapGrowthSlots} slots, compute ≤ ${BUDGETS.computePerCycle} per cycle`);
console.log("heap = XS slots in use after a full garbage collection (currentHeapCount); compute = XS metering units");
history[commit] = rows;
fs.mkdirSync(path.dirname(HISTORY), { recursive: true });
fs.writeFileSync(HISTORY, JSON.stringify(history, null, 2));
process.exitCode = over ? 1 : 0;
