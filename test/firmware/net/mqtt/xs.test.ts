import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodePacket } from "../../../../firmware/net/mqtt/encode.ts";
import { XsnapWorker } from "../../../../host-tools/xs/xsnap-worker.ts";
import { bundleXsScript } from "../../../support/xs-script.ts";

const ROOT = path.resolve(import.meta.dirname, "../../../..");

/** Codec and a whole client session inside the real XS engine, against a broker written here; prints one JSON line. */
const SCENARIO = `
import { encodePacket } from "${ROOT}/firmware/net/mqtt/encode.ts";
import { MqttDecoder } from "${ROOT}/firmware/net/mqtt/decoder.ts";
import { MqttClient } from "${ROOT}/firmware/net/mqtt/client.ts";
import { utf8Encode, utf8Decode } from "${ROOT}/firmware/core/utf8.ts";

const out = {};
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const publish = { type: "publish", topic: "sensor/Zoë", payload: utf8Encode('{"temp":22}'), qos: 1, retain: true, dup: false, packetId: 300 };
const subscribe = { type: "subscribe", packetId: 7, subscriptions: [{ filter: "cmd/+/servo", qos: 2 }, { filter: "#", qos: 0 }] };
out.encoded = [hex(encodePacket(publish)), hex(encodePacket(subscribe))];
const decoded = [];
const decoder = new MqttDecoder();
for (const byte of [...encodePacket(publish), ...encodePacket(subscribe)]) decoder.feed(Uint8Array.of(byte), (p) => decoded.push(p.type === "publish" ? [p.topic, utf8Decode(p.payload), p.packetId] : [p.type, p.subscriptions.length]));
out.decoded = decoded;
try { decoder.feed(Uint8Array.of(0xf0, 0), () => {}); } catch (error) { out.error = [error.name, error.code]; }

// a broker written here: CONNACK, SUBACK, PUBACK/PUBREC/PUBCOMP, and it echoes each publish to subscribers
const transport = {
  async connect(target, handlers) {
    const parser = new MqttDecoder();
    const send = (packet) => Promise.resolve().then(() => handlers.onData(encodePacket(packet)));
    return {
      write(bytes) {
        parser.feed(bytes, (p) => {
          if (p.type === "connect") send({ type: "connack", returnCode: 0, sessionPresent: false });
          if (p.type === "subscribe") send({ type: "suback", packetId: p.packetId, returnCodes: p.subscriptions.map((s) => s.filter === "secret" ? 0x80 : s.qos) });
          if (p.type === "publish") {
            if (p.qos === 1) send({ type: "puback", packetId: p.packetId });
            if (p.qos === 2) send({ type: "pubrec", packetId: p.packetId });
            send({ type: "publish", topic: p.topic, payload: p.payload, qos: 2, retain: false, dup: false, packetId: 9 });
          }
          if (p.type === "pubrel") send({ type: "pubcomp", packetId: p.packetId });
          if (p.type === "pubrec") send({ type: "pubrel", packetId: p.packetId });
        });
      },
      close() { handlers.onClose(); },
    };
  },
};
const clock = { now: () => 0, epochMs: () => undefined, delay() {}, setTimeout: () => ({}), setInterval: () => ({}), clear() {} };
const client = new MqttClient({ transport, clock, target: { host: "broker", port: 1883 }, clientId: "xs-device" });
const received = [];
(async () => {
  out.connect = await client.connect();
  out.granted = await client.subscribe("cmd/#", (m) => received.push([m.topic, utf8Decode(m.payload), m.qos]), { qos: 2 });
  out.refused = await client.subscribe("secret", () => {}).then(() => "granted", (e) => e.code);
  await client.publish("cmd/xs/servo", "90", { qos: 1 });
  await client.publish("cmd/xs/lcd", "hi", { qos: 2 });
  await Promise.resolve();
  out.received = received;
  out.queued = client.queued;
  out.state = client.state;
  out.badTopic = await client.publish("cmd/#", "x").then(() => "sent", (e) => e.code);
  print(JSON.stringify(out));
})().catch((error) => print(JSON.stringify({ failed: String(error) })));
`;


describe("the MQTT codec and client inside the real XS engine", () => {
  const workers: XsnapWorker[] = [];
  afterAll(async () => {
    for (const worker of workers) await worker.close();
  });

  it("encode, decode byte by byte, and run a QoS 1/2 session exactly as on Node", async () => {
    const worker = new XsnapWorker();
    workers.push(worker);
    await worker.evaluate(await bundleXsScript(SCENARIO));
    const line = worker.output.find((l) => l.startsWith("{"));
    expect(line, worker.output.join("\n")).toBeDefined();
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
    const onNode = [
      hex(encodePacket({ type: "publish", topic: "sensor/Zoë", payload: Buffer.from('{"temp":22}'), qos: 1, retain: true, dup: false, packetId: 300 })),
      hex(encodePacket({ type: "subscribe", packetId: 7, subscriptions: [{ filter: "cmd/+/servo", qos: 2 }, { filter: "#", qos: 0 }] })),
    ];
    expect(JSON.parse(line!)).toEqual({
      encoded: onNode,
      decoded: [["sensor/Zoë", '{"temp":22}', 300], ["subscribe", 2]],
      error: ["MqttProtocolError", "BAD_PACKET_TYPE"],
      connect: { sessionPresent: false },
      granted: 2,
      refused: "SUBSCRIBE_REFUSED",
      received: [["cmd/xs/servo", "90", 2], ["cmd/xs/lcd", "hi", 2]],
      queued: 0,
      state: "connected",
      badTopic: "BAD_TOPIC",
    });
  }, 60_000);
});
