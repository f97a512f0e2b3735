import { afterEach, describe, expect, it } from "vitest";
import { MqttClient, type MqttClientOptions, type MqttMessage } from "../../../../firmware/net/mqtt/client.ts";
import { MqttConnectionRefusedError, MqttSubscribeError, MqttUsageError } from "../../../../firmware/net/mqtt/errors.ts";
import { MemoryStorage } from "../../../../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { startAedes, waitFor, type TestBroker } from "./brokers.ts";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
let broker: TestBroker | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await broker?.close();
  broker = undefined;
});

function client(clientId: string, options: Partial<MqttClientOptions> = {}): MqttClient {
  const created = new MqttClient({
    transport: new NodeTransport(),
    clock: new SystemClock(),
    target: { host: "127.0.0.1", port: broker!.port },
    clientId,
    reconnect: { initialMs: 20, maxMs: 200 },
    ...options,
  });
  clients.push(created);
  return created;
}

describe("MQTT client against aedes", () => {
  it("publishes and receives QoS 0, 1 and 2 in both directions", async () => {
    broker = await startAedes();
    const device = client("device");
    const server = client("server");
    await Promise.all([device.connect(), server.connect()]);
    const atServer: MqttMessage[] = [];
    const atDevice: MqttMessage[] = [];
    expect(await server.subscribe("sensor/#", (m) => atServer.push(m), { qos: 2 })).toBe(2);
    expect(await device.subscribe("cmd/device/+", (m) => atDevice.push(m), { qos: 2 })).toBe(2);
    for (const qos of [0, 1, 2] as const) {
      await device.publish("sensor/device", `{"temp":22,"qos":${qos}}`, { qos });
      await server.publish("cmd/device/servo", `${qos * 90}`, { qos });
    }
    await waitFor(() => atServer.length === 3 && atDevice.length === 3, "three messages each way");
    expect(atServer.map((m) => [m.qos, text(m.payload)])).toEqual([
      [0, '{"temp":22,"qos":0}'],
      [1, '{"temp":22,"qos":1}'],
      [2, '{"temp":22,"qos":2}'],
    ]);
    expect(atDevice.map((m) => [m.topic, m.qos, text(m.payload)])).toEqual([
      ["cmd/device/servo", 0, "0"],
      ["cmd/device/servo", 1, "90"],
      ["cmd/device/servo", 2, "180"],
    ]);
    expect(device.queued).toBe(0);
  });

  it("delivers a retained message to a later subscriber, flagged retained", async () => {
    broker = await startAedes();
    const device = client("device");
    await device.connect();
    await device.publish("status/device", "online", { qos: 1, retain: true });
    const later = client("later");
    await later.connect();
    const got: MqttMessage[] = [];
    await later.subscribe("status/+", (m) => got.push(m), { qos: 1 });
    await waitFor(() => got.length === 1, "the retained message");
    expect(got[0]).toMatchObject({ topic: "status/device", retain: true, qos: 1 });
    expect(text(got[0]!.payload)).toBe("online");
  });

  it("makes the broker publish the Last Will on an abrupt close, and not on a clean one", async () => {
    broker = await startAedes();
    const watcher = client("watcher");
    await watcher.connect();
    const got: string[] = [];
    await watcher.subscribe("status/#", (m) => got.push(`${m.topic}=${text(m.payload)}`), { qos: 1 });
    const polite = client("polite", { will: { topic: "status/polite", payload: "offline", qos: 1, retain: true } });
    const crashing = client("crashing", { will: { topic: "status/crashing", payload: "offline", qos: 1, retain: true } });
    await Promise.all([polite.connect(), crashing.connect()]);
    polite.close();
    crashing.close({ abrupt: true });
    await waitFor(() => got.length >= 1, "the will");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(got).toEqual(["status/crashing=offline"]);
  });

  it("resumes a persistent session: messages sent while offline are redelivered", async () => {
    broker = await startAedes();
    const first = client("persistent", { cleanSession: false });
    expect(await first.connect()).toEqual({ sessionPresent: false });
    await first.subscribe("cmd/persistent/#", () => undefined, { qos: 1 });
    first.close();
    const sender = client("sender");
    await sender.connect();
    for (let i = 0; i < 5; i++) await sender.publish("cmd/persistent/lcd", `line ${i}`, { qos: 1 });
    const again = client("persistent", { cleanSession: false });
    const got: string[] = [];
    void again.subscribe("cmd/persistent/#", (m) => got.push(text(m.payload)), { qos: 1 });
    expect(await again.connect()).toEqual({ sessionPresent: true });
    await waitFor(() => got.length === 5, "five stored messages");
    expect(got).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
  });

  it("a resumed session's backlog waits for a handler subscribed only after connect(), and none of it is lost", async () => {
    broker = await startAedes();
    const first = client("late", { cleanSession: false });
    await first.connect();
    await first.subscribe("cmd/late/#", () => undefined, { qos: 1 });
    first.close();
    const sender = client("sender");
    await sender.connect();
    for (let i = 0; i < 5; i++) await sender.publish("cmd/late/lcd", `line ${i}`, { qos: 1 });
    const again = client("late", { cleanSession: false });
    expect(await again.connect()).toEqual({ sessionPresent: true });
    await waitFor(() => again.held === 5, "the backlog to arrive");
    const got: string[] = [];
    await again.subscribe("cmd/late/#", (m) => got.push(text(m.payload)), { qos: 1 });
    await waitFor(() => got.length === 5, "five held messages");
    expect(got).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
    again.close();
    const third = client("late", { cleanSession: false });
    const after: string[] = [];
    void third.subscribe("cmd/late/#", (m) => after.push(text(m.payload)), { qos: 1 });
    await third.connect();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(after).toEqual([]); // all five were acknowledged once handed on: nothing left to redeliver
  });

  it("routes messages to every handler whose filter matches, + and # included", async () => {
    broker = await startAedes();
    const device = client("device");
    await device.connect();
    const seen: string[] = [];
    await device.subscribeMany([
      { filter: "sensor/+/temp", handler: (m) => seen.push(`+temp:${m.topic}`) },
      { filter: "sensor/#", handler: (m) => seen.push(`#:${m.topic}`) },
      { filter: "cmd/device", handler: (m) => seen.push(`exact:${m.topic}`) },
    ]);
    for (const topic of ["sensor/a/temp", "sensor/a/humidity", "sensor", "cmd/device", "cmd/device/x"]) await device.publish(topic, "x", { qos: 1 });
    await device.publish("sensor/b/temp", "x", { qos: 1 });
    await waitFor(() => seen.length === 7, "seven deliveries");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.sort()).toEqual(
      ["#:sensor", "#:sensor/a/humidity", "#:sensor/a/temp", "#:sensor/b/temp", "+temp:sensor/a/temp", "+temp:sensor/b/temp", "exact:cmd/device"].sort(),
    );
  });

  it("reports a refused subscription (SUBACK 0x80) to that subscriber and keeps the connection", async () => {
    broker = await startAedes({
      setup: (aedes) => {
        aedes.authorizeSubscribe = (_client, subscription, callback) => callback(null, subscription.topic.startsWith("secret/") ? null : subscription);
      },
    });
    const device = client("device");
    await device.connect();
    const disconnects: unknown[] = [];
    device.on("disconnected", (d) => disconnects.push(d));
    const refused = device.subscribe("secret/#", () => undefined, { qos: 1 });
    await expect(refused).rejects.toBeInstanceOf(MqttSubscribeError);
    await expect(refused).rejects.toThrow(/refused the subscription to "secret\/#" \(SUBACK 0x80\)/);
    const results = await device.subscribeMany([
      { filter: "open/#", handler: () => undefined, qos: 1 },
      { filter: "secret/x", handler: () => undefined, qos: 1 },
    ]);
    expect(results.map((r) => [r.filter, r.granted, r.error?.code])).toEqual([
      ["open/#", 1, undefined],
      ["secret/x", undefined, "SUBSCRIBE_REFUSED"],
    ]);
    const got: string[] = [];
    await device.subscribe("open/+", (m) => got.push(m.topic), { qos: 1 });
    await device.publish("open/a", "still connected", { qos: 1 });
    await waitFor(() => got.length === 1, "a message after the refusal");
    expect(device.state).toBe("connected");
    expect(disconnects).toEqual([]);
  });

  it.each([
    [4, /CONNACK 4, bad user name or password\); check the user name and password/],
    [5, /CONNACK 5, not authorized.*grant this client id access/],
    [2, /CONNACK 2, identifier rejected.*1–23 characters/],
  ])("explains CONNACK refusal %d and stops retrying", async (returnCode, message) => {
    broker = await startAedes({
      setup: (aedes) => {
        aedes.authenticate = (_client, _username, _password, done) => {
          const error = Object.assign(new Error("no"), { returnCode });
          done(error as never, false);
        };
      },
    });
    const device = client("device", { username: "lab", password: "wrong" });
    const attempt = device.connect();
    await expect(attempt).rejects.toBeInstanceOf(MqttConnectionRefusedError);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ code: `CONNACK_${returnCode}`, returnCode });
    expect(device.state).toBe("closed");
  });

  it("refuses invalid topics and filters from application code without touching the connection", async () => {
    broker = await startAedes();
    const device = client("device");
    await device.connect();
    await expect(device.publish("sensor/+", "x", { qos: 1 })).rejects.toBeInstanceOf(MqttUsageError);
    await expect(device.publish("sensor/#", "x")).rejects.toThrow(/wildcards belong in subscription filters/);
    await expect(device.publish("", "x")).rejects.toThrow(/must not be empty/);
    await expect(device.publish("a\u0000b", "x", { qos: 1 })).rejects.toThrow(/U\+0000/);
    await expect(device.subscribe("a/#/b", () => undefined)).rejects.toThrow(/"#" must be a whole level and the last one/);
    expect(device.queued).toBe(0);
    await device.publish("ok", "x", { qos: 1 });
    expect(device.state).toBe("connected");
  });
});
