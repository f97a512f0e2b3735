/**
 * One packet's body → packet object, checking every rule of MQTT 3.1.1 a receiver can check. The decoder hands in the
 * first byte and exactly Remaining Length bytes; anything wrong is an MqttProtocolError naming the rule.
 */
import { utf8DecodeStrict } from "../../core/utf8.ts";
import { MqttProtocolError } from "./errors.ts";
import { PACKET_TYPE_NAMES, SUBACK_FAILURE, type MqttPacket, type QoS, type Subscription, type Will } from "./packets.ts";
import { quote } from "./strings.ts";
import { topicFilterProblem } from "./topics.ts";

class Reader {
  at = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {}

  get left(): number {
    return this.bytes.length - this.at;
  }

  u8(field: string): number {
    if (this.at >= this.bytes.length) throw truncated(this.what, field);
    return this.bytes[this.at++]!;
  }

  u16(field: string): number {
    if (this.at + 2 > this.bytes.length) throw truncated(this.what, field);
    const value = (this.bytes[this.at]! << 8) | this.bytes[this.at + 1]!;
    this.at += 2;
    return value;
  }

  binary(field: string): Uint8Array {
    const length = this.u16(field);
    if (this.at + length > this.bytes.length) throw truncated(this.what, field);
    const value = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }

  string(field: string): string {
    const length = this.u16(field);
    const start = this.at;
    if (start + length > this.bytes.length) throw truncated(this.what, field);
    this.at += length;
    const bytes = this.bytes;
    // ASCII fast path: most topics and ids are ASCII
    let ascii = "";
    let i = start;
    for (; i < start + length; i++) {
      const b = bytes[i]!;
      if (b === 0) throw badString(this.what, field, "U+0000, which MQTT forbids in strings", i - start);
      if (b >= 0x80) break;
      ascii += String.fromCharCode(b);
    }
    if (i === start + length) return ascii;
    const decoded = utf8DecodeStrict(bytes, i, start + length);
    if (!decoded.ok) throw badString(this.what, field, "malformed UTF-8", decoded.offset - start);
    if (decoded.text.includes("\u0000")) throw badString(this.what, field, "U+0000, which MQTT forbids in strings", decoded.text.indexOf("\u0000"));
    return ascii + decoded.text;
  }

  packetId(): number {
    const id = this.u16("packet identifier");
    if (id === 0) throw new MqttProtocolError("BAD_PACKET_ID", `${this.what} carries packet identifier 0, which MQTT forbids (MQTT-2.3.1-1)`);
    return id;
  }

  end(): void {
    if (this.at !== this.bytes.length) {
      throw new MqttProtocolError("TRAILING_BYTES", `${this.what} has ${this.bytes.length - this.at} bytes after its last field`);
    }
  }
}

function truncated(what: string, field: string): MqttProtocolError {
  return new MqttProtocolError("TRUNCATED", `${what} ends inside its ${field}: Remaining Length is shorter than the fields it carries`);
}

function badString(what: string, field: string, problem: string, offset: number): MqttProtocolError {
  return new MqttProtocolError("BAD_STRING", `${what} ${field} contains ${problem} (byte ${offset} of the string)`);
}

/** Parses a body; `firstByte` has already passed the decoder's type and flag checks. */
export function parseBody(firstByte: number, body: Uint8Array): MqttPacket {
  const type = PACKET_TYPE_NAMES[firstByte >> 4]!;
  const what = type.toUpperCase();
  const reader = new Reader(body, what);
  let packet: MqttPacket;
  switch (type) {
    case "connect":
      packet = parseConnect(reader);
      break;
    case "connack": {
      const flags = reader.u8("acknowledge flags");
      const returnCode = reader.u8("return code");
      if (flags & 0xfe) throw new MqttProtocolError("BAD_CONNACK", `CONNACK sets reserved acknowledge flag bits (0x${flags.toString(16)})`);
      if (returnCode > 5) throw new MqttProtocolError("BAD_CONNACK", `CONNACK return code ${returnCode} is not defined by MQTT 3.1.1 (0–5)`);
      if (returnCode !== 0 && flags) throw new MqttProtocolError("BAD_CONNACK", "a refusing CONNACK claims a session is present (MQTT-3.2.2-4)");
      packet = { type, sessionPresent: flags === 1, returnCode };
      break;
    }
    case "publish": {
      const qos = ((firstByte >> 1) & 3) as QoS;
      const topic = reader.string("topic name");
      if (topic.length === 0) throw new MqttProtocolError("BAD_TOPIC", "PUBLISH has an empty topic name (MQTT-4.7.3-1)");
      if (/[+#]/.test(topic)) throw new MqttProtocolError("BAD_TOPIC", `PUBLISH topic ${quote(topic)} contains a wildcard (MQTT-3.3.2-2)`);
      const packetId = qos > 0 ? reader.packetId() : undefined;
      const payload = body.subarray(reader.at);
      reader.at = body.length;
      packet = { type, topic, payload, qos, retain: (firstByte & 1) === 1, dup: (firstByte & 8) === 8 };
      if (packetId !== undefined) packet.packetId = packetId;
      break;
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "unsuback":
      packet = { type, packetId: reader.packetId() };
      break;
    case "subscribe": {
      const packetId = reader.packetId();
      const subscriptions: Subscription[] = [];
      while (reader.left > 0) {
        const filter = reader.string("topic filter");
        const problem = topicFilterProblem(filter);
        if (problem !== undefined) throw new MqttProtocolError("BAD_TOPIC", `SUBSCRIBE: ${problem}`);
        const options = reader.u8("requested QoS");
        if (options > 2) {
          throw new MqttProtocolError(options & 0xfc ? "RESERVED_FLAGS" : "BAD_QOS", `SUBSCRIBE requests QoS byte 0x${options.toString(16)} for ${quote(filter)}; only 0, 1, 2 are valid (MQTT-3.8.3-4)`);
        }
        subscriptions.push({ filter, qos: options as QoS });
      }
      if (!subscriptions.length) throw new MqttProtocolError("BAD_SUBSCRIBE", "SUBSCRIBE carries no topic filter (MQTT-3.8.3-3)");
      packet = { type, packetId, subscriptions };
      break;
    }
    case "suback": {
      const packetId = reader.packetId();
      const returnCodes: number[] = [];
      while (reader.left > 0) {
        const code = reader.u8("return code");
        if (code > 2 && code !== SUBACK_FAILURE) throw new MqttProtocolError("BAD_SUBACK", `SUBACK return code 0x${code.toString(16)} is not 0, 1, 2 or 0x80`);
        returnCodes.push(code);
      }
      if (!returnCodes.length) throw new MqttProtocolError("BAD_SUBACK", "SUBACK carries no return code");
      packet = { type, packetId, returnCodes };
      break;
    }
    case "unsubscribe": {
      const packetId = reader.packetId();
      const filters: string[] = [];
      while (reader.left > 0) {
        const filter = reader.string("topic filter");
        const problem = topicFilterProblem(filter);
        if (problem !== undefined) throw new MqttProtocolError("BAD_TOPIC", `UNSUBSCRIBE: ${problem}`);
        filters.push(filter);
      }
      if (!filters.length) throw new MqttProtocolError("BAD_SUBSCRIBE", "UNSUBSCRIBE carries no topic filter (MQTT-3.10.3-2)");
      packet = { type, packetId, filters };
      break;
    }
    default:
      packet = { type: type as "pingreq" | "pingresp" | "disconnect" };
  }
  reader.end();
  return packet;
}

function parseConnect(reader: Reader): MqttPacket {
  const protocol = reader.string("protocol name");
  const level = reader.u8("protocol level");
  if (protocol !== "MQTT" || level !== 4) {
    throw new MqttProtocolError("BAD_PROTOCOL", `CONNECT asks for protocol ${quote(protocol)} level ${level}; this side speaks MQTT 3.1.1 ("MQTT" level 4)`);
  }
  const flags = reader.u8("connect flags");
  if (flags & 1) throw new MqttProtocolError("BAD_CONNECT_FLAGS", "CONNECT sets the reserved connect flag bit 0 (MQTT-3.1.2-3)");
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (willQos === 3) throw new MqttProtocolError("BAD_QOS", "CONNECT asks for will QoS 3 (MQTT-3.1.2-14)");
  if (!willFlag && (willQos || willRetain)) {
    throw new MqttProtocolError("BAD_CONNECT_FLAGS", "CONNECT sets will QoS or will retain without a will (MQTT-3.1.2-13/15)");
  }
  const hasUser = (flags & 0x80) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  if (hasPassword && !hasUser) throw new MqttProtocolError("BAD_CONNECT_FLAGS", "CONNECT has a password without a user name (MQTT-3.1.2-22)");
  const keepAlive = reader.u16("keep alive");
  const clientId = reader.string("client identifier");
  const packet: MqttPacket = { type: "connect", clientId, cleanSession: (flags & 0x02) !== 0, keepAlive };
  if (willFlag) {
    const topic = reader.string("will topic");
    if (topic.length === 0 || /[+#]/.test(topic)) throw new MqttProtocolError("BAD_TOPIC", `CONNECT will topic ${quote(topic)} is empty or has a wildcard`);
    const will: Will = { topic, payload: reader.binary("will message"), qos: willQos as QoS, retain: willRetain };
    packet.will = will;
  }
  if (hasUser) packet.username = reader.string("user name");
  if (hasPassword) packet.password = reader.binary("password");
  return packet;
}
