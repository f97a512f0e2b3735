/** fast-check generators of valid MQTT 3.1.1 packets. */
import fc from "fast-check";
import type { MqttPacket, QoS } from "../../../../firmware/net/mqtt/packets.ts";

const qos = fc.constantFrom<QoS>(0, 1, 2);
const packetId = fc.integer({ min: 1, max: 0xffff });
/** Strings MQTT accepts: full Unicode without U+0000 (surrogate pairs allowed, lone surrogates not). */
export const mqttString = fc.string({ unit: "grapheme", maxLength: 20 }).filter((s) => !s.includes("\u0000"));
const level = fc.oneof(fc.stringMatching(/^[a-zA-Z0-9_$ -]{0,8}$/), fc.string({ unit: "grapheme", maxLength: 6 }).filter((s) => !/[\u0000/+#]/.test(s)));
export const topicName = fc.array(level, { minLength: 1, maxLength: 5 }).map((levels) => levels.join("/")).filter((t) => t.length > 0);
export const topicFilter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 5 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, "#"] : levels).join("/"))
  .filter((f) => f.length > 0);
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

export const packetArbitrary: fc.Arbitrary<MqttPacket> = fc.oneof(
  fc
    .record({
      clientId: mqttString,
      cleanSession: fc.boolean(),
      keepAlive: fc.integer({ min: 0, max: 0xffff }),
      will: fc.option(fc.record({ topic: topicName, payload: bytes(40), qos, retain: fc.boolean() }), { nil: undefined }),
      username: fc.option(mqttString, { nil: undefined }),
      password: fc.option(bytes(20), { nil: undefined }),
    })
    .map((p): MqttPacket => {
      const packet: MqttPacket = { type: "connect", clientId: p.clientId, cleanSession: p.cleanSession || p.clientId === "", keepAlive: p.keepAlive };
      if (p.will) packet.will = p.will;
      if (p.username !== undefined) {
        packet.username = p.username;
        if (p.password !== undefined) packet.password = p.password;
      }
      return packet;
    }),
  fc.integer({ min: 0, max: 5 }).chain((returnCode) =>
    fc.record({ type: fc.constant("connack" as const), returnCode: fc.constant(returnCode), sessionPresent: returnCode === 0 ? fc.boolean() : fc.constant(false) }),
  ),
  fc.record({ topic: topicName, payload: bytes(300), qos, retain: fc.boolean(), dup: fc.boolean(), packetId }).map((p): MqttPacket => {
    return p.qos === 0
      ? { type: "publish", topic: p.topic, payload: p.payload, qos: 0, retain: p.retain, dup: false }
      : { type: "publish", topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: p.dup, packetId: p.packetId };
  }),
  fc.record({ type: fc.constantFrom("puback" as const, "pubrec" as const, "pubrel" as const, "pubcomp" as const, "unsuback" as const), packetId }),
  fc.record({ type: fc.constant("subscribe" as const), packetId, subscriptions: fc.array(fc.record({ filter: topicFilter, qos }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ type: fc.constant("suback" as const), packetId, returnCodes: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 4 }) }),
  fc.record({ type: fc.constant("unsubscribe" as const), packetId, filters: fc.array(topicFilter, { minLength: 1, maxLength: 4 }) }),
  fc.record({ type: fc.constantFrom("pingreq" as const, "pingresp" as const, "disconnect" as const) }),
);
