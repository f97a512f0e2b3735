/** Converts between our packet objects and mqtt-packet's, so tests can check each codec against the other. */
import mqtt from "mqtt-packet";
import type { MqttPacket, QoS } from "../../../../firmware/net/mqtt/packets.ts";

type Theirs = Record<string, any>;

export function toTheirs(packet: MqttPacket): Theirs {
  switch (packet.type) {
    case "connect": {
      const out: Theirs = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: packet.cleanSession, keepalive: packet.keepAlive, clientId: packet.clientId };
      if (packet.will) out.will = { topic: packet.will.topic, payload: Buffer.from(packet.will.payload), qos: packet.will.qos, retain: packet.will.retain };
      if (packet.username !== undefined) out.username = packet.username;
      if (packet.password !== undefined) out.password = Buffer.from(packet.password);
      return out;
    }
    case "connack":
      return { cmd: "connack", returnCode: packet.returnCode, sessionPresent: packet.sessionPresent };
    case "publish":
      return { cmd: "publish", topic: packet.topic, payload: Buffer.from(packet.payload), qos: packet.qos, retain: packet.retain, dup: packet.dup, messageId: packet.packetId };
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "unsuback":
      return { cmd: packet.type, messageId: packet.packetId };
    case "subscribe":
      return { cmd: "subscribe", messageId: packet.packetId, subscriptions: packet.subscriptions.map((s) => ({ topic: s.filter, qos: s.qos })) };
    case "suback":
      return { cmd: "suback", messageId: packet.packetId, granted: packet.returnCodes };
    case "unsubscribe":
      return { cmd: "unsubscribe", messageId: packet.packetId, unsubscriptions: packet.filters };
    default:
      return { cmd: packet.type };
  }
}

export function fromTheirs(p: Theirs): MqttPacket {
  switch (p.cmd) {
    case "connect": {
      const out: MqttPacket = { type: "connect", clientId: p.clientId, cleanSession: p.clean, keepAlive: p.keepalive };
      if (p.will) out.will = { topic: p.will.topic, payload: bytes(p.will.payload), qos: p.will.qos as QoS, retain: p.will.retain };
      if (p.username !== undefined) out.username = p.username;
      if (p.password !== undefined) out.password = bytes(p.password);
      return out;
    }
    case "connack":
      return { type: "connack", returnCode: p.returnCode, sessionPresent: p.sessionPresent };
    case "publish": {
      const out: MqttPacket = { type: "publish", topic: p.topic, payload: bytes(p.payload), qos: p.qos, retain: p.retain, dup: p.dup };
      if (p.qos > 0) out.packetId = p.messageId;
      return out;
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "unsuback":
      return { type: p.cmd, packetId: p.messageId };
    case "subscribe":
      return { type: "subscribe", packetId: p.messageId, subscriptions: p.subscriptions.map((s: Theirs) => ({ filter: s.topic, qos: s.qos })) };
    case "suback":
      return { type: "suback", packetId: p.messageId, returnCodes: p.granted };
    case "unsubscribe":
      return { type: "unsubscribe", packetId: p.messageId, filters: p.unsubscriptions };
    default:
      return { type: p.cmd };
  }
}

function bytes(value: Buffer | string | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  return typeof value === "string" ? new Uint8Array(Buffer.from(value)) : new Uint8Array(value);
}

/** Parses bytes with mqtt-packet (3.1.1), returning its packets or its error. */
export function parseWithTheirs(data: Uint8Array): { packets: Theirs[]; error?: Error } {
  const parser = mqtt.parser({ protocolVersion: 4 });
  const packets: Theirs[] = [];
  let error: Error | undefined;
  parser.on("packet", (packet: Theirs) => packets.push(packet));
  parser.on("error", (e: Error) => (error ??= e));
  parser.parse(Buffer.from(data));
  return error ? { packets, error } : { packets };
}

export function generateWithTheirs(packet: MqttPacket): Uint8Array {
  return new Uint8Array(mqtt.generate(toTheirs(packet) as any, { protocolVersion: 4 }));
}

/** Normalises a packet for deep equality (plain arrays for bytes). */
export function comparable(packet: MqttPacket): unknown {
  return JSON.parse(JSON.stringify(packet, (_key, value) => (value instanceof Uint8Array ? { bytes: [...value] } : value)));
}
