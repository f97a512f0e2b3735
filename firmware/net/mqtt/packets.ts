/**
 * MQTT 3.1.1 control packets as plain objects (OASIS standard, 29 October 2014). One shape per packet type; the
 * encoder writes them and the decoder produces them.
 */
export type QoS = 0 | 1 | 2;

export const PacketType = Object.freeze({
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
});

export type PacketTypeName = keyof typeof PacketType;

export const PACKET_TYPE_NAMES: readonly (PacketTypeName | undefined)[] = Object.freeze([
  undefined,
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
  undefined,
]);

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface ConnectPacket {
  type: "connect";
  clientId: string;
  cleanSession: boolean;
  /** Seconds; 0 turns keepalive off. */
  keepAlive: number;
  username?: string;
  password?: Uint8Array;
  will?: Will;
}

export interface ConnackPacket {
  type: "connack";
  sessionPresent: boolean;
  /** 0 accepted; 1–5 refused (see connack.ts). */
  returnCode: number;
}

export interface PublishPacket {
  type: "publish";
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** Present exactly when qos > 0. */
  packetId?: number;
}

export interface AckPacket {
  type: "puback" | "pubrec" | "pubrel" | "pubcomp" | "unsuback";
  packetId: number;
}

export interface Subscription {
  filter: string;
  qos: QoS;
}

export interface SubscribePacket {
  type: "subscribe";
  packetId: number;
  subscriptions: Subscription[];
}

/** SUBACK return codes: the granted QoS, or 0x80 for a refused filter. */
export const SUBACK_FAILURE = 0x80;

export interface SubackPacket {
  type: "suback";
  packetId: number;
  returnCodes: number[];
}

export interface UnsubscribePacket {
  type: "unsubscribe";
  packetId: number;
  filters: string[];
}

export interface EmptyPacket {
  type: "pingreq" | "pingresp" | "disconnect";
}

export type MqttPacket =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | EmptyPacket;

/** The largest Remaining Length four varint bytes can carry (256 MB − 1). */
export const MAX_REMAINING_LENGTH = 268_435_455;
