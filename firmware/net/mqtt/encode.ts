/**
 * Packet → bytes. Validates everything the spec constrains before writing, so a bad value from application code
 * becomes an MqttUsageError naming the field, never a malformed packet on the wire.
 */
import { utf8Length } from "../../core/utf8.ts";
import { MqttUsageError } from "./errors.ts";
import {
  MAX_REMAINING_LENGTH,
  PacketType,
  SUBACK_FAILURE,
  type ConnackPacket,
  type ConnectPacket,
  type MqttPacket,
  type PublishPacket,
  type SubackPacket,
  type SubscribePacket,
  type UnsubscribePacket,
} from "./packets.ts";
import { remainingLengthSize, writeRemainingLength } from "./remaining-length.ts";
import { MAX_STRING_BYTES, stringProblem } from "./strings.ts";
import { topicFilterProblem, topicNameProblem } from "./topics.ts";

const PROTOCOL_NAME = Object.freeze([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]); // "MQTT"
const PROTOCOL_LEVEL = 4; // 3.1.1

export function encodePacket(packet: MqttPacket): Uint8Array {
  switch (packet.type) {
    case "connect":
      return encodeConnect(packet);
    case "connack":
      return encodeConnack(packet);
    case "publish":
      return encodePublish(packet);
    case "puback":
    case "pubrec":
    case "pubcomp":
    case "unsuback":
      checkPacketId(packet.packetId, packet.type);
      return fixed(PacketType[packet.type] << 4, packet.packetId);
    case "pubrel":
      checkPacketId(packet.packetId, packet.type);
      return fixed((PacketType.pubrel << 4) | 0b0010, packet.packetId);
    case "subscribe":
      return encodeSubscribe(packet);
    case "suback":
      return encodeSuback(packet);
    case "unsubscribe":
      return encodeUnsubscribe(packet);
    case "pingreq":
    case "pingresp":
    case "disconnect":
      return Uint8Array.of(PacketType[packet.type] << 4, 0);
    default:
      throw new MqttUsageError("BAD_PACKET_TYPE", `cannot encode a packet of type ${JSON.stringify((packet as { type: unknown }).type)}`);
  }
}

function encodeConnect(packet: ConnectPacket): Uint8Array {
  const { clientId, keepAlive, username, password, will } = packet;
  checkString(clientId, "client id");
  if (clientId === "" && !packet.cleanSession) {
    throw new MqttUsageError("BAD_CLIENT_ID", "an empty client id needs a clean session (MQTT-3.1.3-7); give the device a client id to keep a persistent session");
  }
  if (!Number.isInteger(keepAlive) || keepAlive < 0 || keepAlive > 0xffff) {
    throw new MqttUsageError("BAD_KEEPALIVE", `keepAlive must be 0–65535 seconds; got ${keepAlive}`);
  }
  let length = 10 + 2 + utf8Length(clientId);
  let flags = packet.cleanSession ? 0x02 : 0;
  if (will) {
    checkTopicName(will.topic, "will topic");
    checkQos(will.qos, "will");
    checkBinary(will.payload, "will payload");
    length += 2 + utf8Length(will.topic) + 2 + will.payload.length;
    flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  }
  if (username !== undefined) {
    checkString(username, "user name");
    length += 2 + utf8Length(username);
    flags |= 0x80;
  }
  if (password !== undefined) {
    if (username === undefined) {
      throw new MqttUsageError("BAD_CREDENTIALS", "MQTT 3.1.1 sends a password only with a user name; set a user name too");
    }
    checkBinary(password, "password");
    length += 2 + password.length;
    flags |= 0x40;
  }
  const out = new Uint8Array(1 + remainingLengthSize(length) + length);
  out[0] = PacketType.connect << 4;
  let at = writeRemainingLength(out, 1, length);
  out.set(PROTOCOL_NAME, at);
  at += 6;
  out[at++] = PROTOCOL_LEVEL;
  out[at++] = flags;
  at = writeU16(out, at, keepAlive);
  at = writeString(out, at, clientId);
  if (will) {
    at = writeString(out, at, will.topic);
    at = writeBinary(out, at, will.payload);
  }
  if (username !== undefined) at = writeString(out, at, username);
  if (password !== undefined) writeBinary(out, at, password);
  return out;
}

function encodeConnack(packet: ConnackPacket): Uint8Array {
  const { returnCode, sessionPresent } = packet;
  if (!Number.isInteger(returnCode) || returnCode < 0 || returnCode > 5) {
    throw new MqttUsageError("BAD_CONNACK", `CONNACK return code must be 0–5; got ${returnCode}`);
  }
  if (sessionPresent && returnCode !== 0) {
    throw new MqttUsageError("BAD_CONNACK", "a refusing CONNACK must not claim a session is present");
  }
  return Uint8Array.of(PacketType.connack << 4, 2, sessionPresent ? 1 : 0, returnCode);
}

function encodePublish(packet: PublishPacket): Uint8Array {
  const { topic, payload, qos, retain, dup, packetId } = packet;
  checkTopicName(topic, "topic");
  checkQos(qos, "publish");
  if (qos > 0) checkPacketId(packetId, "publish");
  else if (dup) throw new MqttUsageError("BAD_DUP", "a QoS 0 PUBLISH must not set DUP (MQTT-3.3.1-2)");
  if (!(payload instanceof Uint8Array)) throw new MqttUsageError("BAD_PAYLOAD", "payload must be a Uint8Array");
  const length = 2 + utf8Length(topic) + (qos > 0 ? 2 : 0) + payload.length;
  if (length > MAX_REMAINING_LENGTH) {
    throw new MqttUsageError("PACKET_TOO_LARGE", `PUBLISH would be ${length} bytes; MQTT allows at most ${MAX_REMAINING_LENGTH}`);
  }
  const out = new Uint8Array(1 + remainingLengthSize(length) + length);
  out[0] = (PacketType.publish << 4) | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
  let at = writeRemainingLength(out, 1, length);
  at = writeString(out, at, topic);
  if (qos > 0) at = writeU16(out, at, packetId!);
  out.set(payload, at);
  return out;
}

function encodeSubscribe(packet: SubscribePacket): Uint8Array {
  checkPacketId(packet.packetId, "subscribe");
  const subscriptions = packet.subscriptions;
  if (!subscriptions.length) throw new MqttUsageError("BAD_SUBSCRIBE", "SUBSCRIBE needs at least one topic filter");
  let length = 2;
  for (const { filter, qos } of subscriptions) {
    checkFilter(filter);
    checkQos(qos, `subscription to ${JSON.stringify(filter)}`);
    length += 2 + utf8Length(filter) + 1;
  }
  const out = new Uint8Array(1 + remainingLengthSize(length) + length);
  out[0] = (PacketType.subscribe << 4) | 0b0010;
  let at = writeRemainingLength(out, 1, length);
  at = writeU16(out, at, packet.packetId);
  for (const { filter, qos } of subscriptions) {
    at = writeString(out, at, filter);
    out[at++] = qos;
  }
  return out;
}

function encodeSuback(packet: SubackPacket): Uint8Array {
  checkPacketId(packet.packetId, "suback");
  const codes = packet.returnCodes;
  if (!codes.length) throw new MqttUsageError("BAD_SUBACK", "SUBACK needs one return code per filter");
  for (const code of codes) {
    if (code !== 0 && code !== 1 && code !== 2 && code !== SUBACK_FAILURE) {
      throw new MqttUsageError("BAD_SUBACK", `SUBACK return codes are 0, 1, 2 or 0x80; got ${code}`);
    }
  }
  const length = 2 + codes.length;
  const out = new Uint8Array(1 + remainingLengthSize(length) + length);
  out[0] = PacketType.suback << 4;
  let at = writeRemainingLength(out, 1, length);
  at = writeU16(out, at, packet.packetId);
  out.set(codes, at);
  return out;
}

function encodeUnsubscribe(packet: UnsubscribePacket): Uint8Array {
  checkPacketId(packet.packetId, "unsubscribe");
  if (!packet.filters.length) throw new MqttUsageError("BAD_UNSUBSCRIBE", "UNSUBSCRIBE needs at least one topic filter");
  let length = 2;
  for (const filter of packet.filters) {
    checkFilter(filter);
    length += 2 + utf8Length(filter);
  }
  const out = new Uint8Array(1 + remainingLengthSize(length) + length);
  out[0] = (PacketType.unsubscribe << 4) | 0b0010;
  let at = writeRemainingLength(out, 1, length);
  at = writeU16(out, at, packet.packetId);
  for (const filter of packet.filters) at = writeString(out, at, filter);
  return out;
}

function fixed(firstByte: number, packetId: number): Uint8Array {
  return Uint8Array.of(firstByte, 2, packetId >> 8, packetId & 0xff);
}

function writeU16(out: Uint8Array, at: number, value: number): number {
  out[at] = value >> 8;
  out[at + 1] = value & 0xff;
  return at + 2;
}

function writeBinary(out: Uint8Array, at: number, bytes: Uint8Array): number {
  at = writeU16(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

/** Writes a length-prefixed string, encoding UTF-8 in place (no intermediate array). */
function writeString(out: Uint8Array, at: number, text: string): number {
  const start = at;
  at += 2;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      out[at++] = code;
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      code = 0x10000 + ((code - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00); // pairs were checked
    }
    if (code < 0x800) {
      out[at++] = 0xc0 | (code >> 6);
    } else if (code < 0x10000) {
      out[at++] = 0xe0 | (code >> 12);
      out[at++] = 0x80 | ((code >> 6) & 0x3f);
    } else {
      out[at++] = 0xf0 | (code >> 18);
      out[at++] = 0x80 | ((code >> 12) & 0x3f);
      out[at++] = 0x80 | ((code >> 6) & 0x3f);
    }
    out[at++] = 0x80 | (code & 0x3f);
  }
  writeU16(out, start, at - start - 2);
  return at;
}

function checkString(text: unknown, what: string): void {
  if (typeof text !== "string") throw new MqttUsageError("BAD_STRING", `${what} must be a string`);
  const problem = stringProblem(text);
  if (problem !== undefined) throw new MqttUsageError("BAD_STRING", `${what} cannot be sent: ${problem}`);
}

function checkBinary(bytes: unknown, what: string): void {
  if (!(bytes instanceof Uint8Array)) throw new MqttUsageError("BAD_PAYLOAD", `${what} must be a Uint8Array`);
  if (bytes.length > MAX_STRING_BYTES) {
    throw new MqttUsageError("BAD_PAYLOAD", `${what} is ${bytes.length} bytes; MQTT allows at most ${MAX_STRING_BYTES}`);
  }
}

function checkTopicName(topic: unknown, what: string): void {
  if (typeof topic !== "string") throw new MqttUsageError("BAD_TOPIC", `${what} must be a string`);
  const problem = topicNameProblem(topic);
  if (problem !== undefined) throw new MqttUsageError("BAD_TOPIC", `${what}: ${problem}`);
}

function checkFilter(filter: unknown): void {
  if (typeof filter !== "string") throw new MqttUsageError("BAD_FILTER", "a topic filter must be a string");
  const problem = topicFilterProblem(filter);
  if (problem !== undefined) throw new MqttUsageError("BAD_FILTER", problem);
}

function checkQos(qos: unknown, what: string): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new MqttUsageError("BAD_QOS", `${what}: QoS must be 0, 1 or 2; got ${String(qos)}`);
}

function checkPacketId(packetId: unknown, what: string): void {
  if (!Number.isInteger(packetId) || (packetId as number) < 1 || (packetId as number) > 0xffff) {
    throw new MqttUsageError("BAD_PACKET_ID", `${what} needs a packet id 1–65535; got ${String(packetId)}`);
  }
}
