import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MqttClient, type MqttMessage } from "../../../../firmware/net/mqtt/client.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { mosquittoPath, startMosquitto, waitFor, type Mosquitto } from "./brokers.ts";

const binary = mosquittoPath();
if (!binary) console.warn("NOTICE: mosquitto is not installed — skipping the MQTT client tests against mosquitto (apt-get install mosquitto mosquitto-clients; CI installs it)");

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

(binary ? describe : describe.skip)("MQTT client against mosquitto", () => {
  let mosquitto: Mosquitto;
  const clients: MqttClient[] = [];
  const client = (clientId: string) => {
    const made = new MqttClient({
      transport: new NodeTransport(),
      clock: new SystemClock(),
      target: { host: "127.0.0.1", port: mosquitto.port },
      clientId,
      reconnect: { initialMs: 20, maxMs: 200 },
    });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    mosquitto = await startMosquitto(binary!);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await mosquitto?.close();
  });

  it("publishes and receives QoS 0, 1 and 2 both ways", async () => {
    const device = client("m-device");
    const server = client("m-server");
    await Promise.all([device.connect(), server.connect()]);
    const atServer: MqttMessage[] = [];
    const atDevice: MqttMessage[] = [];
    await server.subscribe("sensor/#", (m) => atServer.push(m), { qos: 2 });
    await device.subscribe("cmd/m-device/#", (m) => atDevice.push(m), { qos: 2 });
    for (const qos of [0, 1, 2] as const) {
      await device.publish("sensor/m-device", `{"temp":22,"qos":${qos}}`, { qos });
      await server.publish("cmd/m-device/lcd", `hello ${qos}`, { qos });
    }
    await waitFor(() => atServer.length === 3 && atDevice.length === 3, "three messages each way");
    expect(atServer.map((m) => [m.qos, text(m.payload)])).toEqual([
      [0, '{"temp":22,"qos":0}'],
      [1, '{"temp":22,"qos":1}'],
      [2, '{"temp":22,"qos":2}'],
    ]);
    expect(atDevice.map((m) => [m.qos, text(m.payload)])).toEqual([
      [0, "hello 0"],
      [1, "hello 1"],
      [2, "hello 2"],
    ]);
  });

  it("receives what mosquitto_pub sends (the course's own command)", async () => {
    const device = client("m-sub");
    await device.connect();
    const got: MqttMessage[] = [];
    await device.subscribe("sensor/+", (m) => got.push(m), { qos: 1 });
    const result = await run("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(mosquitto.port), "-q", "1", "-t", "sensor/Device001", "-m", '{"temp":22}']);
    expect(result.code).toBe(0);
    await waitFor(() => got.length === 1, "the message from mosquitto_pub");
    expect(got[0]).toMatchObject({ topic: "sensor/Device001", qos: 1 });
    expect(text(got[0]!.payload)).toBe('{"temp":22}');
  });

  it("is heard by mosquitto_sub", async () => {
    const sub = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(mosquitto.port), "-q", "1", "-t", "sensor/#", "-C", "2", "-v"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    sub.stdout.on("data", (c) => (stdout += c));
    const exited = new Promise((resolve) => sub.on("exit", resolve));
    const device = client("m-pub");
    await device.connect();
    // mosquitto_sub subscribes on its own schedule: publish until it has heard two messages
    let n = 0;
    const deadline = Date.now() + 5000;
    while (sub.exitCode === null && Date.now() < deadline) {
      await device.publish("sensor/m-pub", `{"temp":${20 + (n++ % 5)}}`, { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await exited;
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^sensor\/m-pub \{"temp":2\d\}$/);
  });
});
