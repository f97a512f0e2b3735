/**
 * The readings stores beyond one laptop, against the real servers from Debian (postgresql, influxdb) started here on
 * free ports in temporary directories — and SQLite beside them, so all three keep the same contract: what is stored
 * reads back as it went in, a redelivered reading is stored once, a message that is not a reading is kept as a
 * reject, content a database cannot hold is refused with ReadingRejected (and nothing else), and with the server
 * down the subscriber leaves readings unacknowledged and stores every one, once, when it is back.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";
import { openReadingsStore } from "../../../../host-tools/cloud/readings/open-store.ts";
import { ReadingRejected, type Reading } from "../../../../host-tools/cloud/readings/reading-message.ts";
import type { ReadingsStorage } from "../../../../host-tools/cloud/readings/readings-storage.ts";
import { subscribeReadings } from "../../../../host-tools/cloud/readings/subscriber.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { startAedes } from "../../../firmware/net/mqtt/brokers.ts";
import { until } from "../../../support/until.ts";
import { influxdPath, postgresBinaries, startInflux, startPostgres, type DatabaseServer } from "./database-servers.ts";

const postgresBin = postgresBinaries();
const influxd = influxdPath();
if (!postgresBin) console.warn("\n  NOTICE: PostgreSQL's server programs are missing, so the postgres:// store tests are skipped (apt-get install postgresql; CI installs it).\n");
if (!influxd) console.warn("\n  NOTICE: influxd is missing, so the influx:// store tests are skipped (apt-get install influxdb; CI installs it).\n");

interface Backend {
  name: string;
  available: boolean;
  /** InfluxDB has no null: a null field reads back as absent. */
  keepsNull: boolean;
  start(): Promise<DatabaseServer>;
}

const backends: Backend[] = [
  {
    name: "sqlite",
    available: true,
    keepsNull: true,
    async start() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-sqlite-"));
      const noop = async () => undefined;
      return { url: path.join(dir, "readings.sqlite"), stop: noop, start: noop, close: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
  { name: "postgres", available: !!postgresBin, keepsNull: true, start: () => startPostgres(postgresBin!) },
  { name: "influx", available: !!influxd, keepsNull: false, start: () => startInflux(influxd!) },
];

const reading = (device: string, seq: number | undefined, fields: Reading["fields"], ts?: number): Reading => ({ device, seq, ts, fields });

describe.each(backends)("readings store: $name", (backend) => {
  let server: DatabaseServer;
  let store: ReadingsStorage;
  beforeAll(async () => {
    if (!backend.available) return;
    server = await backend.start();
    store = openReadingsStore(server.url);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await server?.close();
  });
  const run = backend.available ? it : it.skip;

  run("reads back what was stored: sequenced, unsequenced, with and without ts, every field type", async () => {
    const receivedAt = Date.UTC(2026, 11, 3, 9, 0, 0);
    expect(await store.insert(reading("desk-1", 1, { distance_cm: 12.5, blocked: true, label: 'say "hi"\\ok\nline 2 ☃', time: 3, device: "shadowed" }), receivedAt)).toBe("stored");
    expect(await store.insert(reading("desk-1", 2, { distance_cm: 40 }, Date.UTC(2026, 11, 3, 8, 59, 59)), receivedAt + 1)).toBe("stored");
    expect(await store.insert(reading("desk 2,x=y", undefined, { temp: 22 }), receivedAt + 2)).toBe("stored");
    expect(await store.insert(reading("desk 2,x=y", undefined, { temp: 22 }), receivedAt + 2)).toBe("stored"); // two readings sent on purpose
    const all = await store.readings();
    expect(all).toEqual([
      { device: "desk 2,x=y", seq: undefined, ts: undefined, receivedAt: receivedAt + 2, fields: { temp: 22 } },
      { device: "desk 2,x=y", seq: undefined, ts: undefined, receivedAt: receivedAt + 2, fields: { temp: 22 } },
      { device: "desk-1", seq: 1, ts: undefined, receivedAt, fields: { distance_cm: 12.5, blocked: true, label: 'say "hi"\\ok\nline 2 ☃', time: 3, device: "shadowed" } },
      { device: "desk-1", seq: 2, ts: Date.UTC(2026, 11, 3, 8, 59, 59), receivedAt: receivedAt + 1, fields: { distance_cm: 40 } },
    ]);
    expect((await store.readings({ device: "desk-1", since: receivedAt + 1 })).map((r) => r.seq)).toEqual([2]);
    expect(await store.count()).toMatchObject({ readings: 4 });
    expect(await store.devices()).toEqual(["desk 2,x=y", "desk-1"]);
  });

  run("stores a redelivered reading once (QoS 1 after a lost PUBACK), with or without ts", async () => {
    const first = reading("redelivered", 7, { v: 1 });
    const withTs = reading("redelivered", 8, { v: 2 }, Date.UTC(2026, 0, 1));
    await store.insert(first, 1000, { packetId: 3, dup: false });
    await store.insert(withTs, 1001, { packetId: 4, dup: false });
    const again = [await store.insert(first, 5000, { packetId: 3, dup: true }), await store.insert(withTs, 5001, { packetId: 4, dup: true })];
    expect(again).toEqual(["duplicate", "duplicate"]);
    const stored = await store.readings({ device: "redelivered" });
    expect(stored.map((r) => [r.seq, r.fields.v])).toEqual([
      [7, 1],
      [8, 2],
    ]);
    const unsequenced = reading("redelivered-noseq", undefined, { v: 3 });
    await store.insert(unsequenced, 2000, { packetId: 9, dup: false });
    if (backend.name !== "influx") expect(await store.insert(unsequenced, 6000, { packetId: 9, dup: true })).toBe("duplicate");
  });

  run("keeps a message that is not a reading, with its bytes and the reason", async () => {
    await store.reject("sensor/desk-1", Buffer.from('{"temp": 22,\n"oops'), "payload is not JSON");
    expect((await store.rejects()).at(-1)).toMatchObject({ topic: "sensor/desk-1", payload: '{"temp": 22,\n"oops', reason: "payload is not JSON" });
  });

  run("random readings read back exactly, or are refused with ReadingRejected — nothing else", async () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/).filter((n) => n !== "seq" && n !== "ts" && !n.startsWith("esplab_") && !n.endsWith("_field"));
    const value = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
      fc.integer(),
      fc.boolean(),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.constant(null),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }).filter((d) => !d.includes("/")), fc.dictionary(name, value, { minKeys: 1, maxKeys: 6 }), async (device, fields) => {
        const seq = ++run;
        const wanted = reading(`r${seq}-${device}`, seq, fields as Reading["fields"]);
        try {
          await store.insert(wanted, 1_000_000 + seq);
        } catch (error) {
          expect(error).toBeInstanceOf(ReadingRejected);
          return;
        }
        const [back] = await store.readings({ device: wanted.device });
        const expected = backend.keepsNull ? wanted.fields : Object.fromEntries(Object.entries(wanted.fields).filter(([, v]) => v !== null));
        expect(back).toEqual({ device: wanted.device, seq, ts: undefined, receivedAt: 1_000_000 + seq, fields: expected });
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  run("with the server down, the subscriber leaves readings unacknowledged and stores each once when it is back", async () => {
    const broker = await startAedes();
    const subscriberStore = openReadingsStore(server.url);
    const status: string[] = [];
    const subscriber = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store: subscriberStore, clientId: `subscriber-${backend.name}`, onStatus: (line) => status.push(line) });
    const device = new MqttClient({ transport: new NodeTransport(), clock: new SystemClock(), target: { host: "127.0.0.1", port: broker.port }, clientId: "outage-device", queueCapacity: 1000 });
    try {
      await subscriber.ready;
      await device.connect();
      const send = async (from: number, to: number) => {
        for (let seq = from; seq <= to; seq++) await device.publish("sensor/outage-device", JSON.stringify({ seq, distance_cm: seq }), { qos: 1 });
      };
      await send(1, 20);
      await until(() => status.length > 0, "subscribed");
      await server.stop();
      await send(21, 40); // the broker has them; the store cannot take them
      if (backend.name !== "sqlite") await until(() => status.some((line) => /not acknowledged.*trying again/.test(line)), "the subscriber to report the store down", 20_000);
      await server.start();
      await send(41, 60);
      const stored = async () => (await subscriberStore.readings({ device: "outage-device" })).map((r) => r.seq);
      const deadline = Date.now() + 60_000;
      while ((await stored().catch(() => [])).length < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await stored()).toEqual(Array.from({ length: 60 }, (_, i) => i + 1)); // none lost, each once
    } finally {
      device.close();
      subscriber.close();
      await subscriberStore.close();
      await broker.close();
    }
  }, 120_000);
});

describe("readings stores: mistakes get one clear error", () => {
  (postgresBin ? it : it.skip)("a PostgreSQL database that does not exist is named, with how to create it", async () => {
    const server = await startPostgres(postgresBin!);
    const store = openReadingsStore(server.url.replace(/\/readings$/, "/no_such_db"));
    try {
      const error = await Promise.resolve(store.insert(reading("d", 1, { v: 1 }))).catch((e: Error) => e);
      expect(error).toMatchObject({ code: "store-missing", transient: false, message: expect.stringMatching(/"no_such_db" does not exist — create it first \(createdb NAME/) });
      expect((error as Error).message).not.toMatch(/password/);
    } finally {
      await store.close();
      await server.close();
    }
  }, 60_000);

  (influxd ? it : it.skip)("a reading InfluxDB cannot take (a field that changed type) becomes a reject; the readings after it flow on", async () => {
    const server = await startInflux(influxd!);
    const broker = await startAedes();
    const store = openReadingsStore(server.url);
    const rejects: string[] = [];
    const subscriber = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store, onReject: ({ reason }) => rejects.push(reason) });
    const device = new MqttClient({ transport: new NodeTransport(), clock: new SystemClock(), target: { host: "127.0.0.1", port: broker.port }, clientId: "typed" });
    try {
      await subscriber.ready;
      await device.connect();
      await device.publish("sensor/typed", JSON.stringify({ seq: 1, level: 3 }), { qos: 1 });
      await device.publish("sensor/typed", JSON.stringify({ seq: 2, level: "high" }), { qos: 1 });
      await device.publish("sensor/typed", JSON.stringify({ seq: 3, level: 4 }), { qos: 1 });
      const deadline = Date.now() + 20_000;
      while ((await store.count()).readings < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await store.readings({ device: "typed" })).map((r) => r.seq)).toEqual([1, 3]);
      expect(rejects).toEqual([expect.stringMatching(/InfluxDB refused it: .*field type conflict.*"level"/)]);
      expect((await store.rejects()).map((r) => r.payload)).toEqual(['{"seq":2,"level":"high"}']);
    } finally {
      device.close();
      subscriber.close();
      await store.close();
      await broker.close();
      await server.close();
    }
  }, 60_000);
});
