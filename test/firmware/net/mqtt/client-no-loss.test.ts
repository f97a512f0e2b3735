import net from "node:net";
import mqtt from "mqtt-packet";
import { afterEach, describe, expect, it } from "vitest";
import { MqttClient } from "../../../../firmware/net/mqtt/client.ts";
import { MqttProtocolError } from "../../../../firmware/net/mqtt/errors.ts";
import type { EsplabError } from "../../../../firmware/core/errors.ts";
import { MemoryStorage } from "../../../../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../../host-tools/platform/system-clock.ts";
import { startAedes, waitFor, type TestBroker } from "./brokers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("no reading lost", () => {
  it("a QoS 1 stream survives five broker restarts and a device reboot: every sequence number arrives", async () => {
    const N = 300;
    const arrived: number[] = [];
    let broker: TestBroker = await startAedes();
    const port = broker.port;
    const record = (b: TestBroker) =>
      b.aedes.on("publish", (packet, client) => {
        if (client && packet.topic === "sensor/device") arrived.push(JSON.parse(Buffer.from(packet.payload).toString()).seq);
      });
    record(broker);
    cleanups.push(() => broker.close());
    const storage = new MemoryStorage();
    let drops = 0;
    let queuedAtReboot = 0;
    const makeClient = () => {
      const made = new MqttClient({
        transport: new NodeTransport(),
        clock: new SystemClock(),
        target: { host: "127.0.0.1", port, timeoutMs: 500 },
        clientId: "device",
        storage,
        queueCapacity: N,
        maxInflight: 4,
        keepAliveSeconds: 5,
        reconnect: { initialMs: 10, maxMs: 80 },
      });
      made.on("disconnected", () => drops++);
      return made;
    };
    let client = makeClient();
    cleanups.push(() => client.close());
    void client.connect();
    let seq = 0;
    const publishSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        seq++;
        client.publish("sensor/device", JSON.stringify({ seq, temp: 22 }), { qos: 1 }).catch(() => undefined);
        if (i % 10 === 0) await sleep(1);
      }
    };
    for (let restart = 0; restart < 5; restart++) {
      await publishSome(N / 6);
      await broker.close();
      await publishSome(5); // published while the broker is down
      await sleep(20);
      broker = await startAedes({ port });
      record(broker);
      if (restart === 2) {
        // reboot the device: the client goes away with messages still unacknowledged
        queuedAtReboot = client.queued;
        client.close({ abrupt: true });
        client = makeClient();
        void client.connect();
      }
    }
    await publishSome(N - seq);
    await waitFor(() => client.queued === 0 && new Set(arrived).size === N, `all ${N} readings (have ${new Set(arrived).size})`, 15_000);
    const unique = [...new Set(arrived)].sort((a, b) => a - b);
    expect(unique).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(drops).toBeGreaterThanOrEqual(5); // the client really saw the broker go away each time
    expect(queuedAtReboot).toBeGreaterThan(0); // and the reboot really happened with messages unacknowledged
    // duplicates only as QoS 1 allows: a retransmission of something not acknowledged before a drop
    expect(arrived.length - N).toBeLessThanOrEqual(5 * 4 + 4);
  }, 30_000);
});

describe("a broker that sends malformed, truncated or oversized packets", () => {
  it.each([
    ["garbage", Buffer.from([0xf0, 0x00]), "BAD_PACKET_TYPE"],
    ["a PUBLISH bigger than maxPacketSize", Buffer.from([0x30, 0xff, 0xff, 0x03]), "PACKET_TOO_LARGE"],
    ["a PUBACK with packet id 0", Buffer.from([0x40, 0x02, 0x00, 0x00]), "BAD_PACKET_ID"],
    ["a truncated PUBLISH, then the socket closes", Buffer.from([0x32, 0x20, 0x00, 0x05, 0x61]), undefined],
  ])("%s: a clear error, a clean disconnect, and the queued message still delivered", async (_name, bytes, code) => {
    // a raw TCP server speaking just enough MQTT: the first connection misbehaves, the second one acknowledges
    let connections = 0;
    const acknowledged: string[] = [];
    const server = net.createServer((socket) => {
      const n = ++connections;
      const parser = mqtt.parser({ protocolVersion: 4 });
      parser.on("packet", (packet: any) => {
        if (packet.cmd === "connect") socket.write(mqtt.generate({ cmd: "connack", returnCode: 0, sessionPresent: false }));
        if (packet.cmd === "publish") {
          if (n === 1) {
            socket.write(bytes);
            if (code === undefined) setTimeout(() => socket.destroy(), 20);
          } else {
            acknowledged.push(Buffer.from(packet.payload).toString());
            socket.write(mqtt.generate({ cmd: "puback", messageId: packet.messageId }));
          }
        }
      });
      socket.on("data", (data) => parser.parse(data));
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new MqttClient({
      transport: new NodeTransport(),
      clock: new SystemClock(),
      target: { host: "127.0.0.1", port: (server.address() as net.AddressInfo).port },
      clientId: "device",
      maxPacketSize: 16 * 1024,
      reconnect: { initialMs: 10, maxMs: 50 },
    });
    cleanups.push(() => client.close());
    const errors: EsplabError[] = [];
    const disconnects: (EsplabError | undefined)[] = [];
    client.on("error", (e) => errors.push(e));
    client.on("disconnected", (d) => disconnects.push(d.error));
    await client.connect();
    await client.publish("sensor/device", '{"seq":1}', { qos: 1 });
    expect(acknowledged).toEqual(['{"seq":1}']);
    expect(connections).toBe(2);
    if (code) {
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(MqttProtocolError);
      expect(errors[0]!.code).toBe(code);
      expect(disconnects[0]!.code).toBe(code);
    } else {
      expect(errors).toEqual([]);
      expect(disconnects[0]!.message).toMatch(/closed the connection|reset/);
    }
  });
});
