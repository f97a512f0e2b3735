/**
 * Streaming MQTT decoder: feed it bytes as they arrive, in any split, and it hands out whole packets. Memory is
 * bounded by `maxPacketSize`: the size is checked from the fixed header, before any of the body is buffered. After
 * an error the decoder stays failed (the connection must be closed: MQTT has no resynchronisation).
 */
import { MqttProtocolError } from "./errors.ts";
import { PACKET_TYPE_NAMES, type MqttPacket } from "./packets.ts";
import { parseBody } from "./parse.ts";

export interface DecoderOptions {
  /** Largest whole packet (fixed header included) accepted, in bytes. */
  maxPacketSize?: number;
}

export const DEFAULT_MAX_PACKET_SIZE = 64 * 1024;

/** Required flag nibble per packet type (PUBLISH's flags are checked separately); undefined = reserved type. */
const REQUIRED_FLAGS = Object.freeze([undefined, 0, 0, undefined, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, undefined]);
/** Exact Remaining Length of the fixed-size packets, -1 where it varies. */
const FIXED_LENGTH = Object.freeze([-1, -1, 2, -1, 2, 2, 2, 2, -1, -1, -1, 2, 0, 0, 0, -1]);

export class MqttDecoder {
  readonly maxPacketSize: number;
  #firstByte = -1;
  #length = 0;
  #lengthBytes = 0;
  #body: Uint8Array | undefined;
  #filled = 0;
  #failure: MqttProtocolError | undefined;

  constructor(options: DecoderOptions = {}) {
    this.maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  }

  /** Whether a packet is partly received. */
  get midPacket(): boolean {
    return this.#firstByte >= 0;
  }

  /**
   * Consumes `chunk` (the decoder may keep views into it), calling `onPacket` for each whole packet. Throws
   * MqttProtocolError at the first bad packet; packets before it have been delivered.
   */
  feed(chunk: Uint8Array, onPacket: (packet: MqttPacket) => void): void {
    if (this.#failure) throw this.#failure;
    try {
      this.#feed(chunk, onPacket);
    } catch (error) {
      // a protocol error leaves the stream unparseable; an exception from onPacket (which should not throw) is
      // passed on, and the rest of the chunk is then lost, so it poisons the decoder too
      this.#failure =
        error instanceof MqttProtocolError
          ? error
          : new MqttProtocolError("DECODER_FAILED", "a packet handler threw, so the rest of the received bytes were dropped", { cause: error });
      throw error;
    }
  }

  /** Forgets any partial packet and a previous failure, for a new connection. */
  reset(): void {
    this.#firstByte = -1;
    this.#length = 0;
    this.#lengthBytes = 0;
    this.#body = undefined;
    this.#filled = 0;
    this.#failure = undefined;
  }

  #feed(chunk: Uint8Array, onPacket: (packet: MqttPacket) => void): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.#firstByte < 0) {
        this.#startPacket(chunk[at++]!);
        continue;
      }
      if (this.#body === undefined) {
        const byte = chunk[at++]!;
        this.#length += (byte & 0x7f) * 128 ** this.#lengthBytes;
        this.#lengthBytes++;
        if (byte & 0x80) {
          if (this.#lengthBytes === 4) {
            throw new MqttProtocolError("BAD_REMAINING_LENGTH", `${this.#name()} Remaining Length continues past 4 bytes; MQTT allows at most 4`);
          }
          continue;
        }
        this.#checkLength();
        if (this.#length === 0) {
          this.#emit(new Uint8Array(0), onPacket);
          continue;
        }
        // whole body already in this chunk: a view, no copy
        if (end - at >= this.#length) {
          const body = chunk.subarray(at, at + this.#length);
          at += this.#length;
          this.#emit(body, onPacket);
          continue;
        }
        this.#body = new Uint8Array(this.#length);
        this.#filled = 0;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#filled, end - at);
      body.set(chunk.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled === body.length) this.#emit(body, onPacket);
    }
  }

  #startPacket(firstByte: number): void {
    const type = firstByte >> 4;
    const flags = firstByte & 0x0f;
    const required = REQUIRED_FLAGS[type];
    if (type === 0 || type === 15) {
      throw new MqttProtocolError("BAD_PACKET_TYPE", `packet type ${type} is reserved in MQTT 3.1.1 (first byte 0x${hex(firstByte)}): the peer is not speaking MQTT 3.1.1`);
    }
    if (type === 3) {
      if ((flags & 6) === 6) throw new MqttProtocolError("BAD_QOS", `PUBLISH with QoS 3 (first byte 0x${hex(firstByte)}), which MQTT forbids (MQTT-3.3.1-4)`);
      if ((flags & 0b1110) === 0b1000) throw new MqttProtocolError("RESERVED_FLAGS", "QoS 0 PUBLISH with DUP set (MQTT-3.3.1-2)");
    } else if (flags !== required) {
      throw new MqttProtocolError("RESERVED_FLAGS", `${PACKET_TYPE_NAMES[type]!.toUpperCase()} has flags 0x${flags.toString(16)} where MQTT requires 0x${required!.toString(16)} (MQTT-2.2.2-2)`);
    }
    this.#firstByte = firstByte;
    this.#length = 0;
    this.#lengthBytes = 0;
  }

  #checkLength(): void {
    const length = this.#length;
    const fixed = FIXED_LENGTH[this.#firstByte >> 4]!;
    if (fixed >= 0 && length !== fixed) {
      throw new MqttProtocolError("BAD_LENGTH", `${this.#name()} has Remaining Length ${length}; it must be ${fixed}`);
    }
    const total = 1 + this.#lengthBytes + length;
    if (total > this.maxPacketSize) {
      throw new MqttProtocolError(
        "PACKET_TOO_LARGE",
        `${this.#name()} of ${total} bytes exceeds the ${this.maxPacketSize}-byte maximum packet size; raise maxPacketSize if the device has the RAM, or send smaller messages`,
      );
    }
  }

  #emit(body: Uint8Array, onPacket: (packet: MqttPacket) => void): void {
    const firstByte = this.#firstByte;
    this.#firstByte = -1;
    this.#body = undefined;
    onPacket(parseBody(firstByte, body));
  }

  #name(): string {
    return PACKET_TYPE_NAMES[this.#firstByte >> 4]!.toUpperCase();
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
