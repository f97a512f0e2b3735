/**
 * The telemetry app on the virtual board against the local AWS IoT Core, with the thing's certificate from the
 * registry: readings arrive, the shadow moves the servo and gets its reported angle, and a job changes the reading
 * interval. On the XS engine the firmware is the bundle the board runs; the TLS underneath is the laptop's (Node's),
 * not Moddable's — test/moddable/device-layer.test.ts covers Moddable's mutual TLS with the AWS profile.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startIotCore, type IotCore } from "../../../../host-tools/cloud/iot/iot-core.ts";
import { VirtualDevice } from "../../../../host-tools/runtime/virtual-device.ts";
import { until } from "../../../support/until.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function localIotCore(): Promise<IotCore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-iot-app-"));
  const core = await startIotCore({ dataDir: dir, port: 0 });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => core.close());
  return core;
}

describe.each(["node", "xs"] as const)("the telemetry app on the local AWS IoT Core (%s engine)", (engine) => {
  it("connects with its create-thing certificate; readings, the shadow and a job work", async () => {
    const core = await localIotCore();
    const { certificate } = await core.registry.createThing("lab-thing");
    const readings: { seq: number; uptime_ms: number }[] = [];
    core.onPublish((message) => {
      if (message.topic === "sensor/lab-thing" && message.client === "lab-thing") readings.push(JSON.parse(message.payload));
    });
    const device = new VirtualDevice({
      engine,
      config: {
        app: "telemetry",
        device_id: "lab-thing",
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
    core.shadows.publish("$aws/things/lab-thing/shadow/update", { state: { desired: { servo: 120 } } });
    await until(() => Math.abs(servo() - 120) < 3, "the servo to follow the shadow", 10_000);
    await until(() => core.shadows.document("lab-thing")?.state.reported.servo === 120, "the reported angle", 10_000);

    // a job: one the app refuses, then one that slows the readings to one a second
    core.jobs.createJob("format", ["lab-thing"], { operation: "format-disk" });
    core.jobs.createJob("slower", ["lab-thing"], { operation: "set-interval", interval_ms: 1000 });
    const execution = (jobId: string) => core.jobs.jobs().find((entry) => entry.job.jobId === jobId)!.executions[0]!;
    await until(() => execution("slower").status === "SUCCEEDED", "the set-interval job to succeed", 10_000);
    expect(execution("format")).toMatchObject({ status: "REJECTED", statusDetails: { reason: expect.stringMatching(/unknown operation "format-disk"/) } });
    const from = readings.length;
    await until(() => readings.length >= from + 3, "readings at the new interval", 15_000);
    // the device's own uptime stamps: timers never fire early, so the gaps are at least the new interval
    const gaps = readings.slice(from + 1).map((reading, index) => reading.uptime_ms - readings[from + index]!.uptime_ms);
    expect(Math.min(...gaps.slice(1))).toBeGreaterThanOrEqual(990);
  }, 60_000);
});
