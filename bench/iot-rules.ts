/**
 * Readings per second from many devices through the local AWS IoT Core — mutual TLS, the thing policy, a rule
 * `SELECT * FROM 'sensor/+'` with a readings action — into each readings store given, and how many were lost (the
 * store is checked against every device's sequence numbers). The peer in the same run is the plain path the course
 * started with: the local MQTT broker on TCP and `esplab readings subscribe` into SQLite.
 *
 * usage: npx tsx bench/iot-rules.ts [--devices 100] [--readings 50] [--stores sqlite,postgres://…,influx://…]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createAwsIotClient } from "../firmware/net/aws/iot-core.ts";
import { MqttClient } from "../firmware/net/mqtt/client.ts";
import { startIotCore } from "../host-tools/cloud/iot/iot-core.ts";
import type { ReadingsSink } from "../host-tools/cloud/iot/rules/rules-engine.ts";
import { startMqttBroker } from "../host-tools/cloud/mqtt/broker.ts";
import { openReadingsStore } from "../host-tools/cloud/readings/open-store.ts";
import { ReadingsStore } from "../host-tools/cloud/readings/readings-store.ts";
import { subscribeReadings } from "../host-tools/cloud/readings/subscriber.ts";
import { NodeTransport } from "../host-tools/platform/node-transport.ts";
import { SystemClock } from "../host-tools/platform/system-clock.ts";

const { values } = parseArgs({ options: { devices: { type: "string", default: "100" }, readings: { type: "string", default: "50" }, stores: { type: "string", default: "sqlite" } } });
const devices = Number(values.devices);
const perDevice = Number(values.readings);
const platform = { transport: new NodeTransport(), clock: new SystemClock() };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-bench-iot-"));
const names = Array.from({ length: devices }, (_, i) => `bench-${String(i + 1).padStart(3, "0")}`);

interface Row {
  path: string;
  seconds: number;
  stored: number;
  lost: number;
}

/** Every device publishes its readings at QoS 1, one after another, all devices at once. */
async function publishAll(clients: MqttClient[]): Promise<number> {
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, index) => {
      for (let seq = 1; seq <= perDevice; seq++) await client.publish(`sensor/${names[index]}`, JSON.stringify({ distance_cm: 20 + (seq % 50), seq }), { qos: 1 });
    }),
  );
  return started;
}

async function waitForStored(count: () => Promise<number> | number): Promise<void> {
  const expected = devices * perDevice;
  for (let idle = 0; idle < 300; ) {
    const now = await count();
    if (now >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
    idle++;
  }
}

async function throughIot(db: string): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(scratch, "iot-"));
  let sink: (ReadingsSink & { close(): void | Promise<void>; readings(query: object): unknown[] | Promise<unknown[]> }) | undefined;
  const core = await startIotCore({
    dataDir: dir,
    port: 0,
    rules: [{ name: "store_readings", sql: "SELECT * FROM 'sensor/+'", actions: [{ readings: { db } }] }],
    openStore: async () => (sink ??= (await openReadingsStore(db)) as never),
  });
  const clients: MqttClient[] = [];
  for (const name of names) {
    const { certificate } = await core.registry.createThing(name);
    clients.push(createAwsIotClient({ endpoint: core.endpoint, port: core.port, thingName: name, certificate: certificate.certificatePem, privateKey: certificate.privateKeyPem, rootCa: core.rootCaPem }, platform));
  }
  await Promise.all(clients.map((client) => client.connect()));
  const started = await publishAll(clients);
  const count = async () => (sink ? (await sink.readings({})).length : 0);
  await waitForStored(count);
  const seconds = (performance.now() - started) / 1000;
  const stored = await count();
  for (const client of clients) client.close();
  await core.close();
  await sink?.close();
  const label = /^[a-z0-9]+:\/\//.test(db) ? db.split("://")[0]!.replace(/^postgresql$/, "postgres") : "SQLite";
  return { path: `IoT Core (mTLS) → rule → ${label}`, seconds, stored, lost: devices * perDevice - stored };
}

async function throughSubscriber(): Promise<Row> {
  const broker = await startMqttBroker({ port: 0 });
  const store = new ReadingsStore(path.join(scratch, "peer.sqlite"));
  const subscriber = subscribeReadings({ brokerUrl: broker.url, store });
  await subscriber.ready;
  const clients = names.map((name) => new MqttClient({ ...platform, target: { host: "127.0.0.1", port: broker.port }, clientId: name }));
  await Promise.all(clients.map((client) => client.connect()));
  const started = await publishAll(clients);
  await waitForStored(() => store.count().readings);
  const seconds = (performance.now() - started) / 1000;
  const stored = store.count().readings;
  for (const client of clients) client.close();
  subscriber.close();
  await broker.close();
  store.close();
  return { path: "broker (TCP) → esplab readings subscribe → SQLite (peer)", seconds, stored, lost: devices * perDevice - stored };
}

const rows: Row[] = [];
for (const store of values.stores.split(",")) rows.push(await throughIot(store === "sqlite" ? path.join(scratch, "rules.sqlite") : store));
rows.push(await throughSubscriber());
console.log(`\n${devices} devices × ${perDevice} readings at QoS 1 (${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})\n`);
console.log("| path | readings/s | stored | lost |\n|---|---|---|---|");
for (const row of rows) console.log(`| ${row.path} | ${Math.round(row.stored / row.seconds)} | ${row.stored} | ${row.lost} |`);
fs.rmSync(scratch, { recursive: true, force: true });
process.exitCode = rows.some((row) => row.lost > 0) ? 1 : 0;
