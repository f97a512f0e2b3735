/**
 * SLIP framing as the ESP32 ROM and flasher stub use it: every packet is wrapped in 0xC0; inside a packet 0xC0 is sent
 * as DB DC and 0xDB as DB DD.
 */
export const SLIP_END = 0xc0;
const SLIP_ESC = 0xdb;
const SLIP_ESC_END = 0xdc;
const SLIP_ESC_ESC = 0xdd;

export function slipEncode(payload: Uint8Array): Uint8Array {
  let escapes = 0;
  for (const byte of payload) if (byte === SLIP_END || byte === SLIP_ESC) escapes++;
  const out = new Uint8Array(payload.length + escapes + 2);
  let at = 0;
  out[at++] = SLIP_END;
  for (const byte of payload) {
    if (byte === SLIP_END) {
      out[at++] = SLIP_ESC;
      out[at++] = SLIP_ESC_END;
    } else if (byte === SLIP_ESC) {
      out[at++] = SLIP_ESC;
      out[at++] = SLIP_ESC_ESC;
    } else {
      out[at++] = byte;
    }
  }
  out[at] = SLIP_END;
  return out;
}

/** What a stream of bytes turned into: packets, broken packets, and text outside packets (a boot log, say). */
export type SlipEvent =
  | { kind: "frame"; data: Uint8Array }
  | { kind: "corrupt"; reason: string }
  | { kind: "noise"; bytes: Uint8Array };

/**
 * Incremental SLIP decoder. Feed it whatever the link delivers; it returns complete events. Bytes between packets are
 * reported as noise (the chip prints its boot log in plain text), a bad escape or an oversized packet as corrupt.
 */
export class SlipDecoder {
  readonly #maxFrame: number;
  #inFrame = false;
  #escaped = false;
  #broken: string | undefined;
  #frame: Uint8Array;
  #length = 0;
  #noise: number[] = [];

  constructor(maxFrame = 0x4000 + 1024) {
    this.#maxFrame = maxFrame;
    this.#frame = new Uint8Array(256);
  }

  push(bytes: Uint8Array): SlipEvent[] {
    const events: SlipEvent[] = [];
    for (const byte of bytes) {
      if (!this.#inFrame) {
        if (byte === SLIP_END) {
          this.#flushNoise(events);
          this.#startFrame();
        } else {
          this.#noise.push(byte);
        }
        continue;
      }
      if (byte === SLIP_END) {
        // An END right after a start is the start of the next packet (back-to-back 0xC0 0xC0), not an empty packet.
        if (this.#length === 0 && !this.#escaped && this.#broken === undefined) continue;
        this.#endFrame(events);
        continue;
      }
      if (this.#broken !== undefined) continue;
      if (this.#escaped) {
        this.#escaped = false;
        if (byte === SLIP_ESC_END) this.#append(SLIP_END);
        else if (byte === SLIP_ESC_ESC) this.#append(SLIP_ESC);
        else this.#broken = `invalid SLIP escape 0xdb 0x${byte.toString(16).padStart(2, "0")}`;
      } else if (byte === SLIP_ESC) {
        this.#escaped = true;
      } else {
        this.#append(byte);
      }
    }
    this.#flushNoise(events);
    return events;
  }

  /** Drops a half-received packet (after a baud change or a timeout). */
  reset(): void {
    this.#inFrame = false;
    this.#escaped = false;
    this.#broken = undefined;
    this.#length = 0;
    this.#noise = [];
  }

  #startFrame(): void {
    this.#inFrame = true;
    this.#escaped = false;
    this.#broken = undefined;
    this.#length = 0;
  }

  #endFrame(events: SlipEvent[]): void {
    if (this.#broken === undefined && this.#escaped) this.#broken = "packet ended inside an escape";
    if (this.#broken !== undefined) events.push({ kind: "corrupt", reason: this.#broken });
    else events.push({ kind: "frame", data: this.#frame.slice(0, this.#length) });
    this.#inFrame = false;
    this.#broken = undefined;
    this.#escaped = false;
    this.#length = 0;
  }

  #append(byte: number): void {
    if (this.#length >= this.#maxFrame) {
      this.#broken = `packet longer than ${this.#maxFrame} bytes`;
      return;
    }
    if (this.#length === this.#frame.length) {
      const bigger = new Uint8Array(Math.min(this.#frame.length * 2, this.#maxFrame));
      bigger.set(this.#frame);
      this.#frame = bigger;
    }
    this.#frame[this.#length++] = byte;
  }

  #flushNoise(events: SlipEvent[]): void {
    if (this.#noise.length === 0) return;
    events.push({ kind: "noise", bytes: Uint8Array.from(this.#noise) });
    this.#noise = [];
  }
}
