import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MqttDecoder } from "../../../../firmware/net/mqtt/decoder.ts";
import { encodePacket } from "../../../../firmware/net/mqtt/encode.ts";
import { MqttProtocolError, MqttUsageError } from "../../../../firmware/net/mqtt/errors.ts";
import type { MqttPacket } from "../../../../firmware/net/mqtt/packets.ts";
import { packetArbitrary } from "./packet-arbitraries.ts";
import { comparable, fromTheirs, generateWithTheirs, parseWithTheirs } from "./reference-codec.ts";

const text = (s: string) => new TextEncoder().encode(s);

const EXAMPLES: MqttPacket[] = [
  { type: "connect", clientId: "Device001", cleanSession: true, keepAlive: 60 },
  {
    type: "connect",
    clientId: "thermo-ü",
    cleanSession: false,
    keepAlive: 30,
    username: "lab",
    password: text("s3cret"),
    will: { topic: "status/Device001", payload: text("offline"), qos: 1, retain: true },
  },
  { type: "connect", clientId: "", cleanSession: true, keepAlive: 0, username: "only-user" },
  { type: "connack", sessionPresent: true, returnCode: 0 },
  { type: "connack", sessionPresent: false, returnCode: 5 },
  { type: "publish", topic: "sensor/Device001", payload: text('{"temp":22}'), qos: 0, retain: false, dup: false },
  { type: "publish", topic: "sensor/Device001", payload: text('{"temp":22}'), qos: 1, retain: true, dup: true, packetId: 7 },
  { type: "publish", topic: "a/😀/b", payload: new Uint8Array(5000).fill(0x41), qos: 2, retain: false, dup: false, packetId: 65535 },
  { type: "puback", packetId: 1 },
  { type: "pubrec", packetId: 2 },
  { type: "pubrel", packetId: 3 },
  { type: "pubcomp", packetId: 4 },
  { type: "subscribe", packetId: 10, subscriptions: [{ filter: "sensor/#", qos: 1 }, { filter: "cmd/+/servo", qos: 2 }, { filter: "#", qos: 0 }] },
  { type: "suback", packetId: 10, returnCodes: [1, 2, 0x80] },
  { type: "unsubscribe", packetId: 11, filters: ["sensor/#", "cmd/+/servo"] },
  { type: "unsuback", packetId: 11 },
  { type: "pingreq" },
  { type: "pingresp" },
  { type: "disconnect" },
];

function decodeAll(bytes: Uint8Array, maxPacketSize?: number): MqttPacket[] {
  const decoder = new MqttDecoder(maxPacketSize === undefined ? {} : { maxPacketSize });
  const out: MqttPacket[] = [];
  decoder.feed(bytes, (p) => out.push(p));
  return out;
}

function decodeError(bytes: number[] | Uint8Array, maxPacketSize?: number): MqttProtocolError {
  try {
    decodeAll(Uint8Array.from(bytes), maxPacketSize);
  } catch (error) {
    expect(error).toBeInstanceOf(MqttProtocolError);
    return error as MqttProtocolError;
  }
  throw new Error("expected a protocol error");
}

describe("MQTT codec against mqtt-packet", () => {
  it.each(EXAMPLES.map((p) => [p.type, p] as const))("our %s encoding parses in mqtt-packet to the same packet", (_type, packet) => {
    const parsed = parseWithTheirs(encodePacket(packet));
    expect(parsed.error).toBeUndefined();
    expect(parsed.packets).toHaveLength(1);
    expect(comparable(fromTheirs(parsed.packets[0]!))).toEqual(comparable(packet));
  });

  it.each(EXAMPLES.map((p) => [p.type, p] as const))("mqtt-packet's %s bytes decode here to the same packet, byte-identical to ours", (_type, packet) => {
    const bytes = generateWithTheirs(packet);
    expect(comparable(decodeAll(bytes, 1 << 20)[0]!)).toEqual(comparable(packet));
    expect([...encodePacket(packet)]).toEqual([...bytes]);
  });

  it("random packets round-trip both ways and match mqtt-packet byte for byte", () => {
    fc.assert(
      fc.property(packetArbitrary, (packet) => {
        const ours = encodePacket(packet);
        const theirs = generateWithTheirs(packet);
        expect([...ours]).toEqual([...theirs]);
        expect(comparable(decodeAll(ours)[0]!)).toEqual(comparable(packet));
        const parsed = parseWithTheirs(ours);
        expect(parsed.error).toBeUndefined();
        expect(comparable(fromTheirs(parsed.packets[0]!))).toEqual(comparable(packet));
      }),
      { numRuns: 1500 },
    );
  });

  it("a stream split at random points decodes to the same packets", () => {
    fc.assert(
      fc.property(fc.array(packetArbitrary, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (packets, cuts) => {
        const stream = Buffer.concat(packets.map((p) => encodePacket(p)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new MqttDecoder();
        const out: MqttPacket[] = [];
        let from = 0;
        for (const point of [...points, stream.length]) {
          decoder.feed(new Uint8Array(stream.subarray(from, point)), (p) => out.push(p));
          from = point;
        }
        expect(out.map(comparable)).toEqual(packets.map(comparable));
        expect(decoder.midPacket).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});

describe("MQTT decoder rejects what MQTT 3.1.1 forbids", () => {
  it.each([
    ["reserved packet type 0", [0x00, 0x00], "BAD_PACKET_TYPE"],
    ["reserved packet type 15", [0xf0, 0x00], "BAD_PACKET_TYPE"],
    ["PUBLISH QoS 3", [0x36, 0x05, 0, 1, 0x61, 0, 1], "BAD_QOS"],
    ["QoS 0 PUBLISH with DUP", [0x38, 0x03, 0, 1, 0x61], "RESERVED_FLAGS"],
    ["PUBREL without its 0010 flags", [0x60, 0x02, 0, 1], "RESERVED_FLAGS"],
    ["SUBSCRIBE without its 0010 flags", [0x80, 0x06, 0, 1, 0, 1, 0x61, 0], "RESERVED_FLAGS"],
    ["PUBACK with flags", [0x41, 0x02, 0, 1], "RESERVED_FLAGS"],
    ["a five-byte Remaining Length", [0x30, 0xff, 0xff, 0xff, 0xff, 0x01], "BAD_REMAINING_LENGTH"],
    ["PUBACK of length 3", [0x40, 0x03, 0, 1, 0], "BAD_LENGTH"],
    ["PINGRESP with a body", [0xd0, 0x01, 0], "BAD_LENGTH"],
    ["PUBACK with packet id 0", [0x40, 0x02, 0, 0], "BAD_PACKET_ID"],
    ["QoS 1 PUBLISH with packet id 0", [0x32, 0x05, 0, 1, 0x61, 0, 0], "BAD_PACKET_ID"],
    ["SUBACK with packet id 0", [0x90, 0x03, 0, 0, 0], "BAD_PACKET_ID"],
    ["CONNACK with reserved flag bits", [0x20, 0x02, 0x02, 0], "BAD_CONNACK"],
    ["CONNACK code 6", [0x20, 0x02, 0, 6], "BAD_CONNACK"],
    ["refusing CONNACK with session present", [0x20, 0x02, 1, 5], "BAD_CONNACK"],
    ["topic with U+0000", [0x30, 0x05, 0, 3, 0x61, 0x00, 0x62], "BAD_STRING"],
    ["topic with an overlong '/' (C0 AF)", [0x30, 0x04, 0, 2, 0xc0, 0xaf], "BAD_STRING"],
    ["topic with an encoded surrogate (ED A0 80)", [0x30, 0x05, 0, 3, 0xed, 0xa0, 0x80], "BAD_STRING"],
    ["topic with encoded U+0000 after non-ASCII", [0x30, 0x05, 0, 3, 0xc3, 0xa9, 0x00], "BAD_STRING"],
    ["PUBLISH topic with a wildcard", [0x30, 0x03, 0, 1, 0x23], "BAD_TOPIC"],
    ["PUBLISH with an empty topic", [0x30, 0x02, 0, 0], "BAD_TOPIC"],
    ["PUBLISH whose topic length runs past the packet", [0x30, 0x03, 0, 9, 0x61], "TRUNCATED"],
    ["SUBACK with code 3", [0x90, 0x03, 0, 1, 3], "BAD_SUBACK"],
    ["SUBACK without codes", [0x90, 0x02, 0, 1], "BAD_SUBACK"],
    ["SUBSCRIBE without filters", [0x82, 0x02, 0, 1], "BAD_SUBSCRIBE"],
    ["SUBSCRIBE with reserved QoS bits", [0x82, 0x06, 0, 1, 0, 1, 0x61, 0x04], "RESERVED_FLAGS"],
    ["SUBSCRIBE with QoS 3", [0x82, 0x06, 0, 1, 0, 1, 0x61, 0x03], "BAD_QOS"],
    ["SUBSCRIBE with a bad filter", [0x82, 0x07, 0, 1, 0, 2, 0x61, 0x23, 0x00], "BAD_TOPIC"],
    ["UNSUBSCRIBE without filters", [0xa2, 0x02, 0, 1], "BAD_SUBSCRIBE"],
    ["CONNECT with reserved flag", [0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x03, 0, 0, 0, 0], "BAD_CONNECT_FLAGS"],
    ["CONNECT for MQTT 3.1", [0x10, 0x0e, 0, 6, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 3, 0x02, 0, 0, 0, 0], "BAD_PROTOCOL"],
    ["CONNECT with a password but no user name", [0x10, 0x0e, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x42, 0, 0, 0, 0, 0, 0], "BAD_CONNECT_FLAGS"],
    ["CONNECT with will QoS 3", [0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x1e, 0, 0, 0, 0], "BAD_QOS"],
    ["CONNECT with will retain but no will", [0x10, 0x0c, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x22, 0, 0, 0, 0], "BAD_CONNECT_FLAGS"],
    ["CONNECT with trailing bytes", [0x10, 0x0d, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0, 0, 0, 9], "TRAILING_BYTES"],
  ] as const)("%s", (_name, bytes, code) => {
    const error = decodeError(bytes as unknown as number[]);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(20);
  });

  it("refuses an oversized packet from its fixed header, before the body arrives", () => {
    const decoder = new MqttDecoder({ maxPacketSize: 1024 });
    // PUBLISH announcing 100 000 bytes: only the 4-byte header is fed
    const header = Uint8Array.of(0x30, 0xa0, 0x8d, 0x06);
    expect(() => decoder.feed(header, () => undefined)).toThrow(expect.objectContaining({ code: "PACKET_TOO_LARGE" }));
    expect(() => decoder.feed(Uint8Array.of(0xd0, 0), () => undefined)).toThrow(expect.objectContaining({ code: "PACKET_TOO_LARGE" }));
  });

  it("accepts a packet exactly at the maximum size", () => {
    const packet: MqttPacket = { type: "publish", topic: "t", payload: new Uint8Array(100), qos: 0, retain: false, dup: false };
    const bytes = encodePacket(packet);
    expect(decodeAll(bytes, bytes.length)).toHaveLength(1);
    expect(decodeError(bytes, bytes.length - 1).code).toBe("PACKET_TOO_LARGE");
  });

  it("delivers the packets before a bad one, then stays failed", () => {
    const decoder = new MqttDecoder();
    const seen: string[] = [];
    const stream = Uint8Array.from([0xd0, 0x00, 0x40, 0x02, 0, 0, 0xd0, 0x00]);
    expect(() => decoder.feed(stream, (p) => seen.push(p.type))).toThrow(MqttProtocolError);
    expect(seen).toEqual(["pingresp"]);
    expect(() => decoder.feed(Uint8Array.of(0xd0, 0), (p) => seen.push(p.type))).toThrow(MqttProtocolError);
    decoder.reset();
    decoder.feed(Uint8Array.of(0xd0, 0), (p) => seen.push(p.type));
    expect(seen).toEqual(["pingresp", "pingresp"]);
  });

  it("random bytes: only MqttProtocolError, never a hang, memory within the limit", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const decoder = new MqttDecoder({ maxPacketSize: 256 });
        try {
          for (const chunk of chunks) decoder.feed(chunk, () => undefined);
        } catch (error) {
          if (!(error instanceof MqttProtocolError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated and truncated valid packets: decoded or refused with MqttProtocolError, in agreement with the spec", () => {
    fc.assert(
      fc.property(packetArbitrary, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (packet, where, value, cut) => {
        const bytes = encodePacket(packet).slice();
        bytes[where % bytes.length] = value;
        const truncated = bytes.subarray(0, cut % (bytes.length + 1));
        for (const input of [bytes, truncated]) {
          const decoder = new MqttDecoder();
          try {
            decoder.feed(input, (decoded) => {
              // whatever the decoder accepts must be a packet we can encode again without complaint — except one a
              // client may not send but a server must answer rather than drop: a CONNECT with an empty client id and
              // no clean session is well-formed, and refused with CONNACK 2 (MQTT-3.1.3-8)
              try {
                encodePacket(decoded);
              } catch (error) {
                const refusedId = decoded.type === "connect" && decoded.clientId === "" && !decoded.cleanSession;
                if (!(refusedId && error instanceof MqttUsageError && error.code === "BAD_CLIENT_ID")) throw error;
              }
            });
          } catch (error) {
            if (!(error instanceof MqttProtocolError)) throw error;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("MQTT encoder refuses invalid packets from application code", () => {
  it.each([
    ["a wildcard topic", { type: "publish", topic: "sensor/+", payload: new Uint8Array(), qos: 0, retain: false, dup: false }, "BAD_TOPIC"],
    ["an empty topic", { type: "publish", topic: "", payload: new Uint8Array(), qos: 0, retain: false, dup: false }, "BAD_TOPIC"],
    ["U+0000 in a topic", { type: "publish", topic: "a\u0000b", payload: new Uint8Array(), qos: 0, retain: false, dup: false }, "BAD_TOPIC"],
    ["a lone surrogate", { type: "publish", topic: "a\ud800", payload: new Uint8Array(), qos: 0, retain: false, dup: false }, "BAD_TOPIC"],
    ["QoS 3", { type: "publish", topic: "t", payload: new Uint8Array(), qos: 3, retain: false, dup: false, packetId: 1 }, "BAD_QOS"],
    ["QoS 1 without packet id", { type: "publish", topic: "t", payload: new Uint8Array(), qos: 1, retain: false, dup: false }, "BAD_PACKET_ID"],
    ["QoS 0 with DUP", { type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: true }, "BAD_DUP"],
    ["packet id 0", { type: "puback", packetId: 0 }, "BAD_PACKET_ID"],
    ["packet id 65536", { type: "pubrel", packetId: 65536 }, "BAD_PACKET_ID"],
    ["'#' not last", { type: "subscribe", packetId: 1, subscriptions: [{ filter: "a/#/b", qos: 0 }] }, "BAD_FILTER"],
    ["'+' inside a level", { type: "subscribe", packetId: 1, subscriptions: [{ filter: "a/b+", qos: 0 }] }, "BAD_FILTER"],
    ["no filters", { type: "subscribe", packetId: 1, subscriptions: [] }, "BAD_SUBSCRIBE"],
    ["password without user", { type: "connect", clientId: "x", cleanSession: true, keepAlive: 0, password: new Uint8Array(1) }, "BAD_CREDENTIALS"],
    ["an empty client id with a persistent session", { type: "connect", clientId: "", cleanSession: false, keepAlive: 0 }, "BAD_CLIENT_ID"],
    ["keepalive 70000", { type: "connect", clientId: "x", cleanSession: true, keepAlive: 70000 }, "BAD_KEEPALIVE"],
    ["a 70 000-byte client id", { type: "connect", clientId: "x".repeat(70000), cleanSession: true, keepAlive: 0 }, "BAD_STRING"],
  ] as const)("%s", (_name, packet, code) => {
    expect(() => encodePacket(packet as unknown as MqttPacket)).toThrow(MqttUsageError);
    expect(() => encodePacket(packet as unknown as MqttPacket)).toThrow(expect.objectContaining({ code }));
  });
});
