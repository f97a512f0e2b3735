/**
 * MQTT codec throughput: our encoder and streaming decoder against mqtt-packet (the codec aedes and MQTT.js use),
 * same packets, same run. PUBLISH QoS 1 with a small JSON reading and with a 4 KB payload.
 * Run: npx tsx bench/mqtt-codec.ts [SECONDS_PER_CASE]
 */
import mqtt from "mqtt-packet";
import { MqttDecoder } from "../firmware/net/mqtt/decoder.ts";
import { encodePacket } from "../firmware/net/mqtt/encode.ts";
import type { PublishPacket } from "../firmware/net/mqtt/packets.ts";

const SECONDS = Number(process.argv[2] ?? 0.5);

const cases: { name: string; packet: PublishPacket }[] = [
  {
    name: "PUBLISH small JSON",
    packet: { type: "publish", topic: "sensor/Device001", payload: new TextEncoder().encode('{"temp":22.5,"hum":41,"seq":123456,"ts":1700000000000}'), qos: 1, retain: false, dup: false, packetId: 42 },
  },
  { name: "PUBLISH 4 KB", packet: { type: "publish", topic: "sensor/Device001/blob", payload: new Uint8Array(4096).fill(0x61), qos: 1, retain: false, dup: false, packetId: 42 } },
];

/** Runs `work` (which processes `batch` packets) repeatedly for SECONDS; returns packets per second. */
function measure(work: () => void, batch: number): number {
  for (let i = 0; i < 20; i++) work(); // warm up
  let packets = 0;
  const start = performance.now();
  let now = start;
  while (now - start < SECONDS * 1000) {
    work();
    packets += batch;
    now = performance.now();
  }
  return (packets * 1000) / (now - start);
}

const rows: string[][] = [];
for (const { name, packet } of cases) {
  const theirsPacket = { cmd: "publish" as const, topic: packet.topic, payload: Buffer.from(packet.payload), qos: 1 as const, retain: false, dup: false, messageId: 42 };
  const bytes = encodePacket(packet);
  const size = bytes.length;
  const BATCH = 100;
  // a stream of BATCH packets, fed in 1460-byte pieces as TCP segments arrive
  const stream = Buffer.concat(Array.from({ length: BATCH }, () => Buffer.from(bytes)));
  const segments: Buffer[] = [];
  for (let at = 0; at < stream.length; at += 1460) segments.push(stream.subarray(at, at + 1460));

  const ourEncode = measure(() => {
    for (let i = 0; i < BATCH; i++) encodePacket(packet);
  }, BATCH);
  const theirEncode = measure(() => {
    for (let i = 0; i < BATCH; i++) mqtt.generate(theirsPacket);
  }, BATCH);
  let decoded = 0;
  const decoder = new MqttDecoder({ maxPacketSize: 1 << 20 });
  const ourDecode = measure(() => {
    for (const segment of segments) decoder.feed(new Uint8Array(segment.buffer, segment.byteOffset, segment.length), () => decoded++);
  }, BATCH);
  const parser = mqtt.parser({ protocolVersion: 4 });
  parser.on("packet", () => decoded++);
  const theirDecode = measure(() => {
    for (const segment of segments) parser.parse(segment);
  }, BATCH);
  if (decoded === 0) throw new Error("nothing decoded");
  const mb = (rate: number) => ((rate * size) / 1e6).toFixed(1);
  const k = (rate: number) => `${(rate / 1000).toFixed(0)}k`;
  rows.push([name, `${size} B`, "encode", `${k(ourEncode)}/s ${mb(ourEncode)} MB/s`, `${k(theirEncode)}/s ${mb(theirEncode)} MB/s`, `${(ourEncode / theirEncode).toFixed(2)}×`]);
  rows.push([name, `${size} B`, "decode", `${k(ourDecode)}/s ${mb(ourDecode)} MB/s`, `${k(theirDecode)}/s ${mb(theirDecode)} MB/s`, `${(ourDecode / theirDecode).toFixed(2)}×`]);
}

const header = ["packet", "size", "op", "esplab", "mqtt-packet", "esplab/mqtt-packet"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log(`MQTT codec throughput, Node ${process.version}, ${SECONDS} s per case (packets/s and payload+header MB/s)`);
console.log(line(header));
for (const row of rows) console.log(line(row));
