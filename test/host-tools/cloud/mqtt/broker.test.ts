import { execFile, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import mqttPacket from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { startMqttBroker, type MqttBroker } from "../../../../host-tools/cloud/mqtt/broker.ts";
import { until } from "../../../support/until.ts";

const haveMosquittoClients = spawnSync("sh", ["-c", "command -v mosquitto_pub && command -v mosquitto_sub"]).status === 0;
if (!haveMosquittoClients) console.warn("\n  NOTICE: mosquitto_pub/mosquitto_sub are missing: their broker tests are skipped (apt-get install mosquitto-clients).\n");

/** CONNECT with mqtt-packet over a raw socket; resolves with the CONNACK return code. */
function connect(port: number, credentials: { username?: string; password?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (packet) => {
      if (packet.cmd === "connack") {
        resolve(packet.returnCode ?? 0);
        socket.destroy();
      }
    });
    socket.on("data", (data) => parser.parse(data));
    socket.on("error", reject);
    socket.on("close", () => resolve(-1));
    socket.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, clientId: "t", keepalive: 10, ...credentials, password: credentials.password ? Buffer.from(credentials.password) : undefined }));
  });
}

describe("the local MQTT broker", () => {
  let broker: MqttBroker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it("accepts the right user and refuses others with MQTT 3.1.1's CONNACK codes", async () => {
    broker = await startMqttBroker({ port: 0, users: { device: "s3cret" } });
    expect(await connect(broker.port, { username: "device", password: "s3cret" })).toBe(0);
    expect(await connect(broker.port, { username: "device", password: "wrong" })).toBe(4);
    expect(await connect(broker.port, {})).toBe(5);
  });

  it("says clearly when its port is taken", async () => {
    broker = await startMqttBroker({ port: 0 });
    await expect(startMqttBroker({ port: broker.port })).rejects.toThrow(/is in use/);
  });

  it.skipIf(!haveMosquittoClients)("carries the course's mosquitto_pub example to mosquitto_sub and to its listeners", async () => {
    let subscribed: () => void = () => undefined;
    const subscription = new Promise<void>((resolve) => (subscribed = resolve));
    broker = await startMqttBroker({ port: 0, log: (line) => line.includes("subscribed to sensor/#") && subscribed() });
    const seen: string[] = [];
    broker.onPublish((message) => seen.push(`${message.topic} ${message.payload}`));
    const subscriber = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(broker.port), "-t", "sensor/#", "-C", "1", "-v"]);
    const exited = new Promise((resolve) => subscriber.once("exit", resolve)); // it may exit before mosquitto_pub does
    let received = "";
    subscriber.stdout.on("data", (data) => (received += data));
    await subscription;
    await new Promise((resolve, reject) =>
      execFile("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(broker!.port), "-t", "sensor/Device001", "-m", '{"temp":22}'], (error) => (error ? reject(error) : resolve(undefined))),
    );
    await exited;
    expect(received.trim()).toBe('sensor/Device001 {"temp":22}');
    // aedes tells its listeners after it has forwarded the message, so under load mosquitto_sub can exit first
    await until(() => seen.length > 0, "the broker's listeners to hear of the message", 5000).catch(() => undefined);
    expect(seen).toContain('sensor/Device001 {"temp":22}');
  });
});
