/**
 * The telemetry app on the virtual board against the local AWS IoT Core, with the thing's certificate from the
 * registry: readings arrive, the shadow moves the servo and gets its reported angle, a job changes the reading
 * interval, and a topic rule routes the readings into PostgreSQL and InfluxDB (real servers, started here; SQLite
 * where they are not installed), whose dashboards serve them. On the XS engine the firmware is the bundle the board
 * runs; the TLS underneath is the laptop's (Node's), not Moddable's — test/moddable/device-layer.test.ts covers
 * Moddable's mutual TLS with the AWS profile. The dashboard is read through its API here; its page is drawn in
 * chromium by test/host-tools/dashboard/dashboard.test.ts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startIotCore, type IotCore } from "../../../../host-tools/cloud/iot/iot-core.ts";
import { openReadingsStore } from "../../../../host-tools/cloud/readings/open-store.ts";
import type { ReadingsStorage } from "../../../../host-tools/cloud/readings/readings-storage.ts";
import { DashboardServer } from "../../../../host-tools/dashboard/server.ts";
import { VirtualDevice } from "../../../../host-tools/runtime/virtual-device.ts";
import { until } from "../../../support/until.ts";
import { influxdPath, postgresBinaries, startInflux, startPostgres, type DatabaseServer } from "../readings/database-servers.ts";

const postgresBin = postgresBinaries();
const influxd = influxdPath();
if (!postgresBin || !influxd) console.warn("\n  NOTICE: PostgreSQL or InfluxDB is not installed, so the telemetry rule writes to SQLite only in their place (apt-get install postgresql influxdb; CI installs them).\n");
const servers: DatabaseServer[] = [];
const storeUrls: string[] = [];
beforeAll(async () => {
  if (postgresBin) servers.push(await startPostgres(postgresBin));
  if (influxd) servers.push(await startInflux(influxd));
  storeUrls.push(...servers.map((server) => server.url));
  if (!storeUrls.length) storeUrls.push(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "esplab-iot-store-")), "readings.sqlite"));
}, 60_000);
afterAll(async () => {
  for (const server of servers) await server.close();
});

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The local IoT Core with a rule that sends every reading to each store, as `esplab iot start --rules` does. */
async function localIotCore(stores: Map<string, ReadingsStorage>): Promise<IotCore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-iot-app-"));
  const core = await startIotCore({
    dataDir: dir,
    port: 0,
    rules: [{ name: "readings_to_stores", sql: "SELECT * FROM 'sensor/+'", actions: storeUrls.map((db) => ({ readings: { db } })) }],
    openStore: (db) => {
      const store = openReadingsStore(db);
      stores.set(db, store);
      return store;
    },
  });
  cleanups.push(
    () => fs.rmSync(dir, { recursive: true, force: true }),
    async () => {
      for (const store of stores.values()) await store.close();
    },
    () => core.close(),
  );
  return core;
}

async function dashboardReadings(store: ReadingsStorage, device: string): Promise<{ store: string; devices: string[]; readings: { device: string; seq: number; fields: { distance_cm: number } }[] }> {
  const dashboard = new DashboardServer({ source: { readings: (query) => store.readings(query), devices: () => store.devices(), describe: () => store.location } });
  const url = await dashboard.listen(0);
  try {
    return (await (await fetch(new URL(`/api/readings?device=${encodeURIComponent(device)}`, url))).json()) as Awaited<ReturnType<typeof dashboardReadings>>;
  } finally {
    await dashboard.close();
  }
}

describe.each(["node", "xs"] as const)("the telemetry app on the local AWS IoT Core (%s engine)", (engine) => {
  it("connects with its create-thing certificate; readings, the shadow and a job work; a rule stores its readings", async () => {
    const thing = `lab-thing-${engine}`; // the stores outlive each engine's run: its own device in them
    const stores = new Map<string, ReadingsStorage>();
    const core = await localIotCore(stores);
    const { certificate } = await core.registry.createThing(thing);
    const readings: { seq: number; uptime_ms: number }[] = [];
    core.onPublish((message) => {
      if (message.topic === `sensor/${thing}` && message.client === thing) readings.push(JSON.parse(message.payload));
    });
    const device = new VirtualDevice({
      engine,
      config: {
        app: "telemetry",
        device_id: thing,
        ir_kind: "distance",
        mqtt_profile: "aws",
        aws_endpoint: core.endpoint,
        aws_port: core.port,
        aws_certificate: certificate.certificatePem,
        aws_private_key: certificate.privateKeyPem,
        aws_root_ca: core.rootCaPem,
        telemetry_interval_ms: 200,
      },
    });
    cleanups.push(() => device.stop());
    await device.start();
    await until(() => readings.length >= 3, "three readings through the IoT Core", 20_000);

    // the shadow: a desired angle moves the servo, and the device reports it back
    const servo = () => (device.board.parts.find((part) => part.type === "servo-sg90")!.snapshot() as { target: number }).target;
    core.shadows.publish(`$aws/things/${thing}/shadow/update`, { state: { desired: { servo: 120 } } });
    await until(() => Math.abs(servo() - 120) < 3, "the servo to follow the shadow", 10_000);
    await until(() => core.shadows.document(thing)?.state.reported.servo === 120, "the reported angle", 10_000);

    // a job: one the app refuses, then one that slows the readings to one a second
    core.jobs.createJob("format", [thing], { operation: "format-disk" });
    core.jobs.createJob("slower", [thing], { operation: "set-interval", interval_ms: 1000 });
    const execution = (jobId: string) => core.jobs.jobs().find((entry) => entry.job.jobId === jobId)!.executions[0]!;
    await until(() => execution("slower").status === "SUCCEEDED", "the set-interval job to succeed", 10_000);
    expect(execution("format")).toMatchObject({ status: "REJECTED", statusDetails: { reason: expect.stringMatching(/unknown operation "format-disk"/) } });
    const from = readings.length;
    await until(() => readings.length >= from + 5, "readings at the new interval", 20_000);
    // the device's own uptime stamps, over three intervals after the first (which may still be the old one): one
    // reading stamped late by a busy machine shortens the next gap, so the span is what shows the interval (200 ms
    // before the job, 1 s after)
    const span = readings[from + 4]!.uptime_ms - readings[from + 1]!.uptime_ms;
    expect(span / 3).toBeGreaterThanOrEqual(900);

    // the rule stored every reading the thing published, in each store, and each store's dashboard serves them
    const published = readings.map((reading) => reading.seq);
    for (const db of storeUrls) {
      const store = stores.get(db)!;
      const deadline = Date.now() + 15_000;
      let stored: number[] = [];
      while (Date.now() < deadline) {
        stored = (await store.readings({ device: thing })).map((reading) => reading.seq!);
        if (published.every((seq) => stored.includes(seq))) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(stored.slice(0, published.length), store.location).toEqual(published);
      const served = await dashboardReadings(store, thing);
      expect(served.store).toBe(store.location);
      expect(served.devices).toContain(thing);
      expect(served.readings.map((reading) => reading.seq).slice(0, published.length)).toEqual(published);
      expect(served.readings.every((reading) => reading.device === thing && typeof reading.fields.distance_cm === "number")).toBe(true);
    }
    expect(storeUrls.map((db) => stores.get(db)!.location.split(" ")[0])).toEqual([...(postgresBin ? ["PostgreSQL"] : []), ...(influxd ? ["InfluxDB"] : []), ...(!postgresBin && !influxd ? ["SQLite"] : [])]);
  }, 90_000);
});
