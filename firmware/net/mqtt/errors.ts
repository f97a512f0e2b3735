import { EsplabError, ProtocolError, TransportError, UsageError } from "../../core/errors.ts";

/** Why bytes from a peer break MQTT 3.1.1. The codec raises nothing else for bad input. */
export type MqttProtocolErrorCode =
  | "BAD_PACKET_TYPE"
  | "RESERVED_FLAGS"
  | "BAD_QOS"
  | "BAD_REMAINING_LENGTH"
  | "PACKET_TOO_LARGE"
  | "BAD_LENGTH"
  | "TRUNCATED"
  | "TRAILING_BYTES"
  | "BAD_PROTOCOL"
  | "BAD_CONNECT_FLAGS"
  | "BAD_CONNACK"
  | "BAD_STRING"
  | "BAD_TOPIC"
  | "BAD_PACKET_ID"
  | "BAD_SUBSCRIBE"
  | "BAD_SUBACK"
  | "UNEXPECTED_PACKET"
  | "DECODER_FAILED";

/** A peer sent bytes that break MQTT 3.1.1, or more than this side agreed to hold in memory. */
export class MqttProtocolError extends ProtocolError {
  declare readonly code: MqttProtocolErrorCode;
  constructor(code: MqttProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Application code asked for something MQTT (or the broker profile) forbids; nothing was sent. */
export class MqttUsageError extends UsageError {}

/** The broker answered CONNECT with a refusal (CONNACK return code 1–5). */
export class MqttConnectionRefusedError extends EsplabError {
  readonly returnCode: number;
  constructor(returnCode: number, message: string) {
    super(`CONNACK_${returnCode}`, message);
    this.returnCode = returnCode;
  }
}

/** The broker refused one subscription (SUBACK 0x80); the connection stays up. */
export class MqttSubscribeError extends EsplabError {
  readonly filter: string;
  constructor(filter: string, message: string) {
    super("SUBSCRIBE_REFUSED", message);
    this.filter = filter;
  }
}

/** The link to the broker failed or went quiet (no CONNACK, no PINGRESP, closed while waiting). */
export class MqttConnectionError extends TransportError {}
