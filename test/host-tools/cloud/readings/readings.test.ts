import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readingsToCsv } from "../../../../host-tools/cloud/readings/csv.ts";
import { ReadingRejected, parseReadingMessage } from "../../../../host-tools/cloud/readings/reading-message.ts";
import { ReadingsStore, ReadingsStoreError } from "../../../../host-tools/cloud/readings/readings-store.ts";
import { subscribeReadings } from "../../../../host-tools/cloud/readings/subscriber.ts";
import { mosquittoPath, startAedes, startMosquitto } from "../../../firmware/net/mqtt/brokers.ts";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";
import { startLocalCloud } from "../../../../host-tools/cloud/index.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { until } from "../../../support/until.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const mosquitto = mosquittoPath();
const haveMosquittoPub = spawnSync("sh", ["-c", "command -v mosquitto_pub"]).status === 0;
if (!mosquitto || !haveMosquittoPub) console.warn("\n  NOTICE: mosquitto or mosquitto_pub is missing: the readings tests against them are skipped (apt-get install mosquitto mosquitto-clients).\n");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "esplab-readings-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("reading messages", () => {
  it("takes the device from the topic and keeps seq, ts and the other fields", () => {
    expect(parseReadingMessage("sensor/Device001", bytes('{"temp":22,"seq":7,"ts":1795360908570,"ok":true,"room":"lab"}'))).toEqual({
      device: "Device001",
      seq: 7,
      ts: 1795360908570,
      fields: { temp: 22, ok: true, room: "lab" },
    });
  });

  it.each([
    ["sensor/a/b", "{}", /not sensor\/<device>/],
    ["sensor/Device001", '{"temp":22,"seq":"7"}', /"seq", when given, must be a whole number/],
    ["sensor/Device001", '{"seq":-1}', /"seq", when given, must be a whole number/],
    ["sensor/Device001", "[1]", /not a JSON object/],
    ["sensor/Device001", "{", /not JSON/],
    ["sensor/Device001", '{"seq":1,"nested":{"a":1}}', /field "nested"/],
    ["sensor/Device001", '{"seq":1,"ts":1e300}', /"ts" must be/],
  ])("refuses %s %s", (topic, payload, reason) => {
    expect(() => parseReadingMessage(topic, bytes(payload))).toThrow(reason);
  });

  it("throws only ReadingRejected, whatever arrives", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant("sensor/D1"), fc.string()), fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.json().map(bytes), fc.jsonValue().map((v) => bytes(JSON.stringify({ seq: 1, v })))), (topic, payload) => {
        try {
          const reading = parseReadingMessage(topic, payload);
          expect(reading.seq === undefined || Number.isSafeInteger(reading.seq)).toBe(true);
          readingsToCsv([{ ...reading, receivedAt: 0 }]);
        } catch (error) {
          expect(error).toBeInstanceOf(ReadingRejected);
        }
      }),
    );
  });
});

describe("ReadingsStore", () => {
  it("stores a (device, seq) once, keeps rejects with their reason, and survives being reopened", () => {
    const file = path.join(dir, "readings.sqlite");
    const store = new ReadingsStore(file);
    const reading = parseReadingMessage("sensor/D1", bytes('{"seq":1,"temp":20}'));
    expect(store.insert(reading, 1000)).toBe("stored");
    expect(store.insert({ ...reading, fields: { temp: 99 } }, 2000)).toBe("duplicate");
    store.insert(parseReadingMessage("sensor/D2", bytes('{"seq":1,"temp":30}')), 3000);
    store.reject("sensor/D1", bytes("garbage"), "payload is not JSON");
    // No close(): what insert() returned is already on disk.
    const reopened = new ReadingsStore(file);
    expect(reopened.readings({ device: "D1" })).toEqual([{ device: "D1", seq: 1, ts: undefined, receivedAt: 1000, fields: { temp: 20 } }]);
    expect(reopened.readings({ since: 2500 }).map((r) => r.device)).toEqual(["D2"]);
    expect(reopened.rejects()).toEqual([{ receivedAt: expect.any(Number), topic: "sensor/D1", payload: "garbage", reason: "payload is not JSON" }]);
    expect(reopened.count()).toEqual({ readings: 2, rejects: 1 });
    reopened.close();
    store.close();
  });

  it("stores the README's {\"temp\":22}, which has no seq: once per delivery, a redelivery (DUP, same packet id) not twice", () => {
    const store = new ReadingsStore(path.join(dir, "r.sqlite"));
    const reading = parseReadingMessage("sensor/Device001", bytes('{"temp":22}'));
    expect(reading).toEqual({ device: "Device001", seq: undefined, ts: undefined, fields: { temp: 22 } });
    expect(store.insert(reading, 1000, { packetId: 7, dup: false })).toBe("stored");
    expect(store.insert(reading, 2000, { packetId: 8, dup: false })).toBe("stored"); // sent twice on purpose: two readings
    expect(store.insert(reading, 2100, { packetId: 8, dup: true })).toBe("duplicate"); // the broker's redelivery of #8
    expect(store.insert(reading, 2200, { packetId: 9, dup: true })).toBe("stored"); // a redelivery whose first copy never got stored
    expect(store.insert(reading, 3000)).toBe("stored"); // QoS 0 or the local cloud's own copy: no packet id
    store.insert(parseReadingMessage("sensor/Device001", bytes('{"temp":21,"seq":1}')), 500);
    const stored = store.readings({ device: "Device001" });
    expect(stored.map((r) => [r.seq, r.receivedAt])).toEqual([[1, 500], [undefined, 1000], [undefined, 2000], [undefined, 2200], [undefined, 3000]]);
    expect(store.readings({ since: 2100 }).map((r) => r.receivedAt)).toEqual([2200, 3000]);
    expect(store.count().readings).toBe(5);
    expect(readingsToCsv(stored).split("\r\n")[2]).toBe("Device001,,,1970-01-01T00:00:01.000Z,22");
    store.close();
  });

  it("keeps each seq-less message exactly once across crashes before and after storing (property)", () => {
    const crash = fc.constantFrom("none", "none", "before-store", "after-store");
    fc.assert(
      fc.property(fc.array(fc.record({ temp: fc.constantFrom(21, 22), crashes: fc.array(crash, { maxLength: 3 }) }), { maxLength: 60 }), fc.nat(65535), (messages, firstId) => {
        const store = new ReadingsStore(":memory:");
        messages.forEach(({ temp, crashes }, i) => {
          const packetId = ((firstId + i) % 65535) + 1; // the broker's ids, in order
          const reading = parseReadingMessage("sensor/D9", bytes(JSON.stringify({ temp })));
          let dup = false;
          for (const fault of [...crashes, "none"]) {
            if (fault !== "before-store") store.insert(reading, i, { packetId, dup });
            if (fault === "none") break;
            dup = true; // not acknowledged: the broker sends it again after the reconnect
          }
        });
        expect(store.count().readings).toBe(messages.length);
        store.close();
      }),
      { numRuns: 300 },
    );
  });

  it("says which file it cannot open", () => {
    expect(() => new ReadingsStore(path.join(dir, "missing-dir", "r.sqlite"))).toThrow(ReadingsStoreError);
    expect(() => new ReadingsStore(path.join(dir, "missing-dir", "r.sqlite"))).toThrow(/missing-dir.*writable/);
  });

  it("exports RFC 4180 CSV with a column per field", () => {
    const csv = readingsToCsv([
      { device: "D1", seq: 1, ts: 0, receivedAt: 1000, fields: { temp: 20, note: 'said "hi", left' } },
      { device: "D1", seq: 2, ts: undefined, receivedAt: 2000, fields: { hum: 40, note: "two\nlines" } },
    ]);
    expect(csv).toBe(
      "device,seq,ts,received_at,hum,note,temp\r\n" +
        'D1,1,1970-01-01T00:00:00.000Z,1970-01-01T00:00:01.000Z,,"said ""hi"", left",20\r\n' +
        'D1,2,,1970-01-01T00:00:02.000Z,40,"two\nlines",\r\n',
    );
  });
});

describe("the readings subscriber", () => {
  it("stores readings from aedes once each, keeps what is not a reading, and gets what was sent while it was away", async () => {
    const broker = await startAedes();
    const store = new ReadingsStore(path.join(dir, "r.sqlite"));
    const publish = (topic: string, payload: string) =>
      new Promise<void>((resolve) => broker.aedes.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, () => resolve()));
    try {
      let subscriber = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store, clientId: "readings-test" });
      await subscriber.ready;
      await publish("sensor/D1", '{"seq":1,"temp":21}');
      await publish("sensor/D1", '{"seq":1,"temp":21}');
      await publish("sensor/D1", "not json");
      await until(() => store.count().readings === 1 && store.count().rejects === 1, "one reading and one reject");
      subscriber.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await publish("sensor/D1", '{"seq":2,"temp":22}');
      subscriber = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store, clientId: "readings-test" });
      await subscriber.ready;
      await until(() => store.count().readings === 2, "the reading sent while away");
      subscriber.close();
      expect(store.readings().map((r) => [r.seq, r.fields.temp])).toEqual([[1, 21], [2, 22]]);
    } finally {
      store.close();
      await broker.close();
    }
  });

  it("does not acknowledge a reading it could not store: the broker delivers it again", async () => {
    const broker = await startAedes();
    const broken = new ReadingsStore(path.join(dir, "broken.sqlite"));
    broken.close(); // every insert now fails
    try {
      const first = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store: broken, clientId: "readings-retry" });
      await first.ready;
      broker.aedes.publish({ cmd: "publish", topic: "sensor/D1", payload: Buffer.from('{"seq":5}'), qos: 1, retain: false, dup: false }, () => undefined);
      await expect(first.failed).rejects.toThrow(/not acknowledged and the broker keeps it/);
      const store = new ReadingsStore(path.join(dir, "good.sqlite"));
      const second = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store, clientId: "readings-retry" });
      await second.ready;
      await until(() => store.count().readings === 1, "the redelivered reading");
      second.close();
      store.close();
    } finally {
      await broker.close();
    }
  });

  it("waits out a database another program has locked: the reading stays unacknowledged, then is stored", async () => {
    const broker = await startAedes();
    const file = path.join(dir, "locked.sqlite");
    const store = new ReadingsStore(file);
    const other = new Database(file);
    const lines: string[] = [];
    try {
      const subscriber = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store, clientId: "readings-locked", onStatus: (line) => lines.push(line) });
      let failed = false;
      subscriber.failed.catch(() => (failed = true));
      await subscriber.ready;
      other.exec("BEGIN EXCLUSIVE");
      broker.aedes.publish({ cmd: "publish", topic: "sensor/D1", payload: Buffer.from('{"seq":7}'), qos: 1, retain: false, dup: false }, () => undefined);
      await until(() => lines.some((line) => /is locked by another program .*not acknowledged \(the broker keeps it\) — trying again in/.test(line)), "the lock reported");
      expect(store.count().readings).toBe(0);
      other.exec("COMMIT");
      await until(() => store.count().readings === 1, "the reading stored once the lock is gone", 10_000);
      expect(failed).toBe(false);
      expect(store.readings().map((reading) => reading.seq)).toEqual([7]);
      subscriber.close();
    } finally {
      other.close();
      store.close();
      await broker.close();
    }
  }, 20_000);

  it.skipIf(!mosquitto || !haveMosquittoPub)("stores what the course's mosquitto_pub sends through mosquitto", async () => {
    const broker = await startMosquitto(mosquitto!);
    const store = new ReadingsStore(path.join(dir, "m.sqlite"));
    try {
      const subscriber = subscribeReadings({ brokerUrl: `mqtt://127.0.0.1:${broker.port}`, store });
      await subscriber.ready;
      await new Promise((resolve, reject) =>
        execFile("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker.port), "-q", "1", "-t", "sensor/Device001", "-m", '{"temp":22,"seq":1}'], (error) => (error ? reject(error) : resolve(undefined))),
      );
      // and the README's example exactly as written: QoS 0, no seq
      await new Promise((resolve, reject) =>
        execFile("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker.port), "-t", "sensor/Device001", "-m", '{"temp":22}'], (error) => (error ? reject(error) : resolve(undefined))),
      );
      await until(() => store.count().readings === 2, "the mosquitto_pub readings");
      expect(store.readings()).toMatchObject([
        { device: "Device001", seq: 1, fields: { temp: 22 } },
        { device: "Device001", seq: undefined, fields: { temp: 22 } },
      ]);
      expect(store.rejects()).toEqual([]);
      subscriber.close();
    } finally {
      store.close();
      await broker.close();
    }
  });
});

describe("the local cloud", () => {
  it("keeps what devices publish on sensor/<id> for the lab's chart", async () => {
    const cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0 });
    try {
      const device = new MqttClient({ transport: new NodeTransport(), clock: new SystemClock(), target: { host: "127.0.0.1", port: cloud.mqtt.port }, clientId: "Device001" });
      await device.connect();
      await device.publish("sensor/Device001", '{"distance_cm":42,"seq":1}', { qos: 1 });
      await device.publish("sensor/Device001", "oops", { qos: 1 });
      device.close();
      await until(() => cloud.readings.count().rejects === 1, "the reading and the reject");
      expect(cloud.readings.readings({ device: "Device001" }).map((r) => r.fields.distance_cm)).toEqual([42]);
    } finally {
      await cloud.close();
    }
  });
});
