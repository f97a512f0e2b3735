/**
 * The local broker with a data directory keeps persistent sessions across a restart: subscriptions, the QoS 1 and 2
 * messages queued for a client that was away, retained messages — and forgets what was acknowledged.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { utf8Decode } from "../../../../firmware/core/utf8.ts";
import { MqttClient, type MqttMessage } from "../../../../firmware/net/mqtt/client.ts";
import { startMqttBroker, type MqttBroker } from "../../../../host-tools/cloud/mqtt/broker.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { until } from "../../../support/until.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function client(port: number, clientId: string, cleanSession: boolean): MqttClient {
  const mqtt = new MqttClient({ transport: new NodeTransport(), clock: new SystemClock(), target: { host: "127.0.0.1", port }, clientId, cleanSession, reconnect: false });
  cleanups.push(() => mqtt.close());
  return mqtt;
}

/** Registers the handler, connects (a resumed session's backlog follows CONNACK) and waits for the SUBACK. */
async function connectSubscribed(mqtt: MqttClient, filter: string, handler: (message: MqttMessage) => void, options: { qos?: 0 | 1 | 2 } = {}): Promise<{ sessionPresent: boolean }> {
  const subscribed = mqtt.subscribe(filter, handler, options);
  const connected = await mqtt.connect();
  await subscribed;
  return connected;
}

async function broker(dataDir: string, port = 0): Promise<MqttBroker> {
  const started = await startMqttBroker({ port, dataDir });
  cleanups.push(() => started.close());
  return started;
}

describe("the local broker's durable sessions", () => {
  it("delivers after a restart what was queued for an absent client, once, in order, and keeps retained messages", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "esplab-broker-sessions-"));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let running = await broker(dataDir);
    const port = running.port;

    // A persistent subscriber takes one message, then goes away.
    const first: string[] = [];
    const subscriber = client(port, "readings", false);
    await connectSubscribed(subscriber, "sensor/#", (message) => first.push(utf8Decode(message.payload)), { qos: 1 });
    const publisher = client(port, "device", true);
    await publisher.connect();
    await publisher.publish("sensor/d1", "m0", { qos: 1 });
    await until(() => first.length === 1, "the first message", 5000);
    subscriber.close();
    await new Promise((resolve) => setTimeout(resolve, 50));

    for (let i = 1; i <= 5; i++) await publisher.publish("sensor/d1", `m${i}`, { qos: i % 2 ? 1 : 2 });
    await publisher.publish("status/d1", "online", { qos: 1, retain: true });
    publisher.close();
    await running.close();

    running = await broker(dataDir, port);
    const after: MqttMessage[] = [];
    const back = client(port, "readings", false);
    const { sessionPresent } = await connectSubscribed(back, "sensor/#", (message) => after.push(message), { qos: 1 });
    expect(sessionPresent).toBe(true);
    await until(() => after.length >= 5, "the messages queued while the subscriber was away", 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(after.map((message) => utf8Decode(message.payload))).toEqual(["m1", "m2", "m3", "m4", "m5"]);

    const retained: string[] = [];
    const reader = client(port, "reader", true);
    await connectSubscribed(reader, "status/#", (message) => retained.push(`${message.topic}=${utf8Decode(message.payload)}${message.retain ? " (retained)" : ""}`));
    await until(() => retained.length === 1, "the retained status", 5000);
    expect(retained).toEqual(["status/d1=online (retained)"]);

    // Acknowledged messages are gone from the store: another restart delivers nothing again.
    back.close();
    reader.close();
    await running.close();
    running = await broker(dataDir, port);
    const again: string[] = [];
    const third = client(port, "readings", false);
    expect((await connectSubscribed(third, "sensor/#", (message) => again.push(utf8Decode(message.payload)), { qos: 1 })).sessionPresent).toBe(true);
    const probe = client(port, "device", true);
    await probe.connect();
    await probe.publish("sensor/d1", "m6", { qos: 1 });
    await until(() => again.length === 1, "a new message", 5000);
    expect(again).toEqual(["m6"]);
  }, 30_000);

  it("without a data directory, a restart forgets sessions as before", async () => {
    const running = await startMqttBroker({ port: 0 });
    const port = running.port;
    const subscriber = client(port, "readings", false);
    await connectSubscribed(subscriber, "sensor/#", () => undefined, { qos: 1 });
    subscriber.close();
    await running.close();
    const restarted = await startMqttBroker({ port });
    cleanups.push(() => restarted.close());
    expect((await client(port, "readings", false).connect()).sessionPresent).toBe(false);
  });
});
