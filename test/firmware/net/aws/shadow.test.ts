import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeviceShadow, ShadowRejectedError, type ShadowDelta, type ShadowDocuments } from "../../../../firmware/net/aws/shadow.ts";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";
import { AWS_IOT_LIMITS } from "../../../../firmware/net/aws/iot-core.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { startAedes, waitFor, type TestBroker } from "../mqtt/brokers.ts";
import { ShadowService } from "../../../../host-tools/cloud/iot/shadow-service.ts";

let broker: TestBroker;
let service: ShadowService;
let requests: { topic: string; body: any }[];
const clock = new SystemClock();
const clients: MqttClient[] = [];

function connectShadow(clientId: string, thingName = "lab-thing", timeoutMs = 2000) {
  const client = new MqttClient({ transport: new NodeTransport(), clock, target: { host: "127.0.0.1", port: broker.port }, clientId, limits: AWS_IOT_LIMITS, reconnect: false });
  clients.push(client);
  const shadow = new DeviceShadow({ client, clock, thingName, timeoutMs });
  return { client, shadow };
}

beforeEach(async () => {
  broker = await startAedes();
  requests = [];
  service = new ShadowService(broker.aedes, { onRequest: ({ topic, body }) => requests.push({ topic, body }) });
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await broker.close();
});

describe("DeviceShadow against the local AWS IoT Core's shadow service", () => {
  it("get of a shadow that does not exist is rejected with 404 and says how to create it", async () => {
    const { client, shadow } = connectShadow("lab-thing");
    await client.connect();
    const failure = shadow.get();
    await expect(failure).rejects.toBeInstanceOf(ShadowRejectedError);
    await expect(failure).rejects.toMatchObject({ status: 404, code: "SHADOW_404" });
    await expect(failure).rejects.toThrow(/No shadow exists with name: 'lab-thing'.*update it once to create it/);
  });

  it("reports state, receives a delta from the app, acts on it, and tracks versions", async () => {
    const device = connectShadow("lab-thing");
    const app = connectShadow("lab-app");
    await Promise.all([device.client.connect(), app.client.connect()]);
    const deltas: ShadowDelta[] = [];
    device.shadow.onDelta((delta) => deltas.push(delta));
    await device.shadow.start();

    const accepted = await device.shadow.updateReported({ temp: 22, led: "off" });
    expect(accepted).toMatchObject({ state: { reported: { temp: 22, led: "off" } }, version: 1, metadata: { reported: { temp: { timestamp: expect.any(Number) } } } });
    expect(device.shadow.version).toBe(1);

    await app.shadow.updateDesired({ led: "on" });
    await waitFor(() => deltas.length === 1, "the delta");
    expect(deltas[0]).toMatchObject({ state: { led: "on" }, version: 2 });

    const ack = await device.shadow.acknowledgeDelta({ led: "on" });
    expect(ack.version).toBe(3);
    const full = await device.shadow.get();
    expect(full.state).toEqual({ desired: {}, reported: { temp: 22, led: "on" } });
    expect(full.version).toBe(3);
    expect(device.shadow.version).toBe(3);
  });

  it("deletes a key with null", async () => {
    const { client, shadow } = connectShadow("lab-thing");
    await client.connect();
    await shadow.updateReported({ temp: 22, humidity: 40, nested: { a: 1, b: 2 } });
    await shadow.updateReported({ humidity: null, nested: { a: null } });
    expect((await shadow.get()).state.reported).toEqual({ temp: 22, nested: { b: 2 } });
  });

  it("rejects an update for a stale version with 409 and the fix", async () => {
    const { client, shadow } = connectShadow("lab-thing");
    await client.connect();
    await shadow.updateReported({ temp: 21 });
    await shadow.updateReported({ temp: 22 });
    const stale = shadow.updateReported({ temp: 23 }, { version: 1 });
    await expect(stale).rejects.toMatchObject({ status: 409, serviceMessage: "Version conflict" });
    await expect(stale).rejects.toThrow(/get it again and retry with the new version/);
    await expect(shadow.updateReported({ temp: 23 }, { version: 2 })).resolves.toMatchObject({ version: 3 });
  });

  it("matches concurrent answers by clientToken, and ignores other clients' answers", async () => {
    const device = connectShadow("lab-thing");
    const other = connectShadow("lab-other");
    await Promise.all([device.client.connect(), other.client.connect()]);
    await Promise.all([device.shadow.start(), other.shadow.start()]);
    const results = await Promise.allSettled([
      device.shadow.updateReported({ a: 1 }),
      other.shadow.updateReported({ b: 2 }),
      device.shadow.updateReported({ c: 3 }, { version: 99 }),
      device.shadow.updateReported({ d: 4 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((results[0] as PromiseFulfilledResult<{ state: unknown }>).value.state).toEqual({ reported: { a: 1 } });
    expect((results[1] as PromiseFulfilledResult<{ state: unknown }>).value.state).toEqual({ reported: { b: 2 } });
    expect((results[3] as PromiseFulfilledResult<{ state: unknown }>).value.state).toEqual({ reported: { d: 4 } });
    const tokens = requests.map((r) => r.body.clientToken);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it("passes /documents on and ignores a delta that is stale or repeated", async () => {
    const { client, shadow } = connectShadow("lab-thing");
    await client.connect();
    const deltas: number[] = [];
    const documents: ShadowDocuments[] = [];
    shadow.onDelta((d) => deltas.push(d.version));
    shadow.onDocuments((d) => documents.push(d));
    await shadow.updateDesired({ servo: 90 });
    await waitFor(() => deltas.length === 1 && documents.length === 1, "delta and documents");
    expect(documents[0]).toMatchObject({ previous: null, current: { state: { desired: { servo: 90 } }, version: 1 } });
    // the same delta again, and an older one, as QoS 1 redelivery or reordering could bring them
    service.publish("$aws/things/lab-thing/shadow/update/delta", { state: { servo: 90 }, version: 1, timestamp: 1 });
    service.publish("$aws/things/lab-thing/shadow/update/delta", { state: { servo: 45 }, version: 0, timestamp: 1 });
    await shadow.updateDesired({ servo: 180 });
    await waitFor(() => deltas.length === 2, "the second delta");
    expect(deltas).toEqual([1, 2]);
  });

  it("refuses an 8 KB+ state or too deep nesting before sending, and times out without an answer", async () => {
    const { client, shadow } = connectShadow("lab-thing", "lab-thing", 200);
    await client.connect();
    await expect(shadow.updateReported({ log: "x".repeat(8200) })).rejects.toMatchObject({ code: "STATE_TOO_LARGE" });
    await expect(shadow.updateReported({ a: { b: { c: { d: { e: { f: { g: 1 } } } } } } })).rejects.toMatchObject({ code: "STATE_TOO_DEEP" });
    expect(requests).toEqual([]);
    // a thing whose shadow topics nobody answers
    const silent = new DeviceShadow({ client, clock, thingName: "nobody-home", timeoutMs: 200 });
    service.close();
    await expect(silent.get()).rejects.toMatchObject({ code: "SHADOW_TIMEOUT" });
  });
});
