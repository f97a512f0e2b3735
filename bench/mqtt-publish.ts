/**
 * QoS 1 publish throughput of the esplab MQTT client (a small JSON reading, each message queued in Storage until its
 * PUBACK), to aedes in-process and to mosquitto (when installed), same run, 127.0.0.1. Then the RAM each queued
 * message costs inside the real XS engine (xsnap-worker): live heap slots after a full GC, per message.
 * Run: npx tsx bench/mqtt-publish.ts [MESSAGES]
 */
import { build } from "esbuild";
import { XsnapWorker } from "../host-tools/xs/xsnap-worker.ts";
import { MqttClient } from "../firmware/net/mqtt/client.ts";
import { MemoryStorage } from "../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../host-tools/platform/node-transport.ts";
import { SystemClock } from "../host-tools/platform/system-clock.ts";
import { mosquittoPath, startAedes, startMosquitto } from "../test/firmware/net/mqtt/brokers.ts";

const MESSAGES = Number(process.argv[2] ?? 5000);

async function run(port: number, maxInflight: number): Promise<number> {
  const client = new MqttClient({
    transport: new NodeTransport(),
    clock: new SystemClock(),
    target: { host: "127.0.0.1", port },
    clientId: `bench-${maxInflight}`,
    storage: new MemoryStorage(),
    queueCapacity: MESSAGES,
    maxInflight,
    reconnect: false,
  });
  await client.connect();
  const start = performance.now();
  const acknowledged: Promise<void>[] = [];
  for (let seq = 0; seq < MESSAGES; seq++) acknowledged.push(client.publish("sensor/bench", `{"temp":22.5,"seq":${seq},"ts":${Date.now()}}`, { qos: 1 }));
  await Promise.all(acknowledged);
  const rate = (MESSAGES * 1000) / (performance.now() - start);
  client.close();
  return rate;
}

const rows: [string, string, string][] = [];
const aedes = await startAedes();
for (const inflight of [1, 8, 32]) rows.push(["aedes 1.2", String(inflight), (await run(aedes.port, inflight)).toFixed(0)]);
await aedes.close();
const binary = mosquittoPath();
if (binary) {
  const mosquitto = await startMosquitto(binary);
  for (const inflight of [1, 8, 32]) rows.push(["mosquitto", String(inflight), (await run(mosquitto.port, inflight)).toFixed(0)]);
  await mosquitto.close();
} else {
  rows.push(["mosquitto", "-", "not installed (apt-get install mosquitto)"]);
}
console.log(`QoS 1 publish throughput, ${MESSAGES} readings per run, each stored before sending and deleted on PUBACK (Node ${process.version})`);
console.log(`${"broker".padEnd(10)}  ${"inflight".padEnd(8)}  msgs/s`);
for (const [broker, inflight, rate] of rows) console.log(`${broker.padEnd(10)}  ${inflight.padEnd(8)}  ${rate}`);

// ── RAM per queued message inside XS ─────────────────────────────────────────────────────────────────────────
// The client is bundled (esbuild, the bundler tsx already runs on) and run in xsnap-worker, offline, with a Storage
// that keeps nothing in the XS heap (as NVS keeps records in flash). Live slots are read after gc().
const QUEUED = 500;
const bundle = await build({
  stdin: { contents: 'import { MqttClient } from "./firmware/net/mqtt/client.ts"; globalThis.MqttClient = MqttClient;', resolveDir: process.cwd(), loader: "ts" },
  bundle: true,
  format: "iife",
  write: false,
  target: "es2022",
});
const xs = new XsnapWorker();
await xs.evaluate(bundle.outputFiles[0]!.text);
await xs.evaluate(`
globalThis.clock = { now: () => 0, epochMs: () => undefined, delay() {}, setTimeout: () => ({}), setInterval: () => ({}), clear() {} };
globalThis.transport = { connect: () => new Promise(() => {}) };
globalThis.flash = { get() { return undefined; }, set() {}, delete() {}, keys() { return []; } };
const record = new Uint8Array(10 + 16 + 40); record[0] = 1; record[1] = 1; record[7] = 1; record[9] = 16;
const keys = []; for (let i = 0; i < ${QUEUED}; i++) keys.push("m" + i);
globalThis.rebootedFlash = { get() { return record.buffer; }, set() {}, delete() {}, keys() { return keys; } };
globalThis.options = (storage, queueDomain) => ({ transport, clock, target: { host: "h", port: 1 }, clientId: "d", storage, queueDomain, queueCapacity: 1000 });
`);
const slots = async () => (await xs.evaluate("gc()")).currentHeapCount;
const s0 = await slots();
await xs.evaluate("globalThis.empty = new MqttClient(options(flash, 'a'))");
const s1 = await slots();
await xs.evaluate("globalThis.restored = new MqttClient(options(rebootedFlash, 'b'))");
const s2 = await slots();
await xs.evaluate(`globalThis.live = new MqttClient(options(flash, 'c')); for (let i = 0; i < ${QUEUED}; i++) live.publish("sensor/Device001", '{"temp":22.5,"seq":1,"ts":1700000000000}', { qos: 1 });`);
const s3 = await slots();
await xs.close();
const clientSlots = s1 - s0;
const restoredPer = (s2 - s1 - clientSlots) / QUEUED;
const livePer = (s3 - s2 - clientSlots) / QUEUED;
console.log(`\nRAM per queued QoS 1 message in XS (${QUEUED} queued, live slots after gc(); an XS slot is 16 bytes on the 32-bit ESP32):`);
console.log(`  client with an empty queue       ${clientSlots} slots ≈ ${clientSlots * 16} B`);
console.log(`  message restored after a reboot  ${restoredPer.toFixed(1)} slots ≈ ${Math.round(restoredPer * 16)} B (descriptor; topic and payload stay in NVS)`);
console.log(`  message whose publish() awaits   ${livePer.toFixed(1)} slots ≈ ${Math.round(livePer * 16)} B (descriptor + the caller's promise)`);
process.exit(0);
