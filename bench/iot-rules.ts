/**
 * Readings per second from many devices through the local AWS IoT Core — mutual TLS, the thing policy, a rule
 * `SELECT * FROM 'sensor/+'` with a readings action — into each readings store given, and how many were lost (the
 * store is checked against every device's sequence numbers). The peer in the same run is the plain path the course
 * started with: the local MQTT broker on TCP and `esplab readings subscribe` into SQLite.
 *
 * usage: npx tsx bench/iot-rules.ts [--devices 100] [--readings 50] [--stores sqlite,postgres,influx]
 * `postgres` and `influx` start a temporary server from the Debian packages (as the tests do); a URL
 * (postgres://…, influx://…) uses that server instead.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createAwsIotClient } from "../firmware/net/aws/iot-core.ts";
import { MqttClient } from "../firmware/net/mqtt/client.ts";
import { startIotCore } from "../host-tools/cloud/iot/iot-core.ts";
import { startMqttBroker } from "../host-tools/cloud/mqtt/broker.ts";
import { openReadingsStore } from "../host-tools/cloud/readings/open-store.ts";
import type { ReadingsStorage } from "../host-tools/cloud/readings/readings-storage.ts";
import { ReadingsStore } from "../host-tools/cloud/readings/readings-store.ts";
import { subscribeReadings } from "../host-tools/cloud/readings/subscriber.ts";
import { NodeTransport } from "../host-tools/platform/node-transport.ts";
import { SystemClock } from "../host-tools/platform/system-clock.ts";
import { influxdPath, postgresBinaries, startInflux, startPostgres, type DatabaseServer } from "../test/host-tools/cloud/readings/database-servers.ts";

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
  twice: number;
}

/** Readings missing and stored twice, against every device's sequence numbers 1…perDevice. */
async function audit(store: ReadingsStorage): Promise<{ stored: number; lost: number; twice: number }> {
  const seen = new Map<string, number>();
  const readings = await store.readings({});
  for (const reading of readings) seen.set(`${reading.device}#${reading.seq}`, (seen.get(`${reading.device}#${reading.seq}`) ?? 0) + 1);
  let lost = 0;
  for (const name of names) for (let seq = 1; seq <= perDevice; seq++) if (!seen.has(`${name}#${seq}`)) lost++;
  return { stored: readings.length, lost, twice: [...seen.values()].filter((n) => n > 1).length };
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

async function throughIot(db: string, label: string): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(scratch, "iot-"));
  let sink: ReadingsStorage | undefined;
  const core = await startIotCore({
    dataDir: dir,
    port: 0,
    rules: [{ name: "store_readings", sql: "SELECT * FROM 'sensor/+'", actions: [{ readings: { db } }] }],
    openStore: () => (sink ??= openReadingsStore(db)),
  });
  const clients: MqttClient[] = [];
  for (const name of names) {
    const { certificate } = await core.registry.createThing(name);
    clients.push(createAwsIotClient({ endpoint: core.endpoint, port: core.port, thingName: name, certificate: certificate.certificatePem, privateKey: certificate.privateKeyPem, rootCa: core.rootCaPem }, platform));
  }
  await Promise.all(clients.map((client) => client.connect()));
  const started = await publishAll(clients);
  await waitForStored(async () => (sink ? (await sink.count()).readings : 0));
  const seconds = (performance.now() - started) / 1000;
  for (const client of clients) client.close();
  await core.close();
  const result = sink ? await audit(sink) : { stored: 0, lost: devices * perDevice, twice: 0 };
  await sink?.close();
  return { path: `IoT Core (mTLS) → rule → ${label}`, seconds, ...result };
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
  for (const client of clients) client.close();
  subscriber.close();
  await broker.close();
  const result = await audit(store);
  store.close();
  return { path: "broker (TCP) → esplab readings subscribe → SQLite (peer)", seconds, ...result };
}

const servers: DatabaseServer[] = [];
/** A store named on the command line: its URL, and what the table calls it. */
async function storeFor(name: string): Promise<[string, string]> {
  if (name === "sqlite") return [path.join(scratch, "rules.sqlite"), "SQLite"];
  if (name === "postgres" || name === "influx") {
    const binary = name === "postgres" ? postgresBinaries() : influxdPath();
    if (!binary) throw new Error(`${name} is not installed (apt-get install ${name === "postgres" ? "postgresql" : "influxdb"}), or give its URL`);
    const server = await (name === "postgres" ? startPostgres(binary) : startInflux(binary));
    servers.push(server);
    return [server.url, name === "postgres" ? "PostgreSQL (local server)" : "InfluxDB (local server)"];
  }
  const store = openReadingsStore(name);
  await store.close();
  return [name, store.location];
}

const rows: Row[] = [];
try {
  for (const name of values.stores.split(",")) rows.push(await throughIot(...(await storeFor(name))));
  rows.push(await throughSubscriber());
} finally {
  for (const server of servers) await server.close();
}
console.log(`\n${devices} devices × ${perDevice} readings at QoS 1 (${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})\n`);
console.log("| path | readings/s | stored | lost | stored twice |\n|---|---|---|---|---|");
for (const row of rows) console.log(`| ${row.path} | ${Math.round(row.stored / row.seconds)} | ${row.stored} | ${row.lost} | ${row.twice} |`);
fs.rmSync(scratch, { recursive: true, force: true });
process.exitCode = rows.some((row) => row.lost > 0 || row.twice > 0) ? 1 : 0;
