/**
 * QoS 1 publish throughput of the esplab MQTT client (a small JSON reading, each message queued in Storage until its
 * PUBACK), to aedes in-process and to mosquitto (when installed), same run, 127.0.0.1.
 * Run: npx tsx bench/mqtt-publish.ts [MESSAGES]
 */
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
