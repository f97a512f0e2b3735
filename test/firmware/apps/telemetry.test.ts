import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { lcdLinesFor, parseServoCommand } from "../../../firmware/apps/telemetry-commands.ts";
import { startMqttBroker, type MqttBroker } from "../../../host-tools/cloud/mqtt/broker.ts";
import { MemoryStorage } from "../../../host-tools/platform/file-storage.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";
import { startTcpProxy } from "../../support/tcp-proxy.ts";
import { until } from "../../support/until.ts";

describe("telemetry command payloads", () => {
  it("accepts an angle as a number or {angle} and explains what it refuses", () => {
    expect(parseServoCommand(" 90 ")).toEqual({ ok: true, value: 90 });
    expect(parseServoCommand('{"angle": 12.5}')).toEqual({ ok: true, value: 12.5 });
    expect(parseServoCommand("181")).toEqual({ ok: false, error: "angle 181 is outside 0–180 degrees" });
    expect(parseServoCommand('{"angle":"90"}')).toEqual({ ok: false, error: '"angle" must be a number, got "\\"90\\""' });
    expect(parseServoCommand("{oops")).toMatchObject({ ok: false, error: expect.stringMatching(/^not JSON/) });
    expect(parseServoCommand("left")).toMatchObject({ ok: false, error: expect.stringMatching(/expected an angle like 90/) });
  });

  it("splits LCD text into two 16-character lines, ASCII only", () => {
    expect(lcdLinesFor("hello\nworld")).toEqual({ ok: true, value: ["hello", "world"] });
    expect(lcdLinesFor("0123456789abcdefXYZ")).toEqual({ ok: true, value: ["0123456789abcdef", "XYZ"] });
    expect(lcdLinesFor("café")).toEqual({ ok: true, value: ["caf?", ""] });
    expect(lcdLinesFor("a\nb\nc")).toMatchObject({ ok: false });
    expect(lcdLinesFor("x".repeat(33))).toMatchObject({ ok: false });
  });

  it("never throws on any payload", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.double().map(String)), (payload) => {
        const servo = parseServoCommand(payload);
        if (servo.ok) expect(servo.value >= 0 && servo.value <= 180).toBe(true);
        const lcd = lcdLinesFor(payload);
        if (lcd.ok) expect(lcd.value.every((line) => line.length <= 16)).toBe(true);
      }),
    );
  });
});

describe("telemetry app against a real broker", () => {
  let broker: MqttBroker | undefined;
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await broker?.close();
  });

  it("goes offline through its Will when the link dies, comes back online, and loses and repeats no sequence number across a reboot", async () => {
    broker = await startMqttBroker({ port: 0 });
    const proxy = await startTcpProxy(broker.port);
    stops.push(() => proxy.close());
    const seen: { topic: string; payload: string }[] = [];
    broker.onPublish((message) => seen.push(message));
    const status = () => seen.filter((m) => m.topic === "status/Device001").map((m) => m.payload);
    const seqs = () => seen.filter((m) => m.topic === "sensor/Device001").map((m) => (JSON.parse(m.payload) as { seq: number }).seq);

    const storage = new MemoryStorage();
    const config = { app: "telemetry", device_id: "Device001", mqtt_url: `mqtt://127.0.0.1:${proxy.port}`, telemetry_interval_ms: 150 };
    const device = new VirtualDevice({ config, storage });
    stops.push(() => device.stop());
    await device.start();
    await until(() => status().includes("online") && seqs().length >= 3, "online and 3 readings", 15_000);

    proxy.cut();
    await until(() => status().includes("offline"), "the Will", 15_000);
    await until(() => status().lastIndexOf("online") > status().indexOf("offline"), "online again after reconnecting", 15_000);
    const afterReconnect = Math.max(...seqs());
    await until(() => Math.max(...seqs()) >= afterReconnect + 2, "readings after the reconnect", 15_000);

    await device.stop();
    const delivered = new Set(seqs());
    const highest = Math.max(...delivered);
    // Everything published before the reboot arrived (duplicates allowed by QoS 1, gaps not).
    for (let seq = 1; seq <= highest; seq++) expect(delivered.has(seq)).toBe(true);

    const rebooted = new VirtualDevice({ config, storage });
    stops.push(() => rebooted.stop());
    await rebooted.start();
    await until(() => seqs().some((seq) => seq > highest), "a reading after the reboot", 15_000);
    // The reboot continues the numbering: nothing repeated, nothing skipped.
    expect(Math.min(...seqs().filter((seq) => seq > highest))).toBe(highest + 1);
  }, 40_000);
});
