import { Op, type OpName } from "../protocol/commands.ts";

/** Line faults the simulator can inject, all driven by one seeded generator so a failing run can be replayed. */
export interface FaultOptions {
  /** Seed of the generator (runs with the same seed and traffic fail the same way). */
  seed?: number;
  /** Probability that a byte, in either direction, is lost. */
  dropRate?: number;
  /** Probability that a byte, in either direction, has one bit flipped. */
  corruptRate?: number;
  /** Extra delay (ms) before the chip's bytes reach the host. */
  latencyMs?: number;
  /** Close the connection after the host has sent this many bytes (a cable pulled mid-write). */
  disconnectAfterBytes?: number;
  /** An adapter that cannot keep up: above this baud, bytes are corrupted with `unreliableRate`. */
  unreliableAbove?: number;
  unreliableRate?: number;
  /** Damage to particular commands, applied where the chip reads them (after the line's own faults). */
  commands?: CommandFault[];
  /** Damage to particular answers from the chip. */
  replies?: ReplyFault[];
}

/**
 * One field of one command damaged on the way to the chip. BEGIN commands carry no checksum and the data commands'
 * checksum covers only the payload, so such damage reaches the loader unnoticed, as a bit flip on a cable would.
 */
export interface CommandFault {
  op: OpName;
  /** address and length of a BEGIN, MD5, READ or ERASE; sequence number and length of a DATA block. */
  field: "address" | "length" | "sequence";
  /** The first command of that op to damage, counting from 1 (resent commands count too). */
  nth: number;
  /** How many of them in a row (default 1). */
  times?: number;
  /** XORed into the field's 32-bit word. */
  xor: number;
}

/** The word index of each field in the commands that have it. */
const FIELD_WORDS: Partial<Record<OpName, Partial<Record<CommandFault["field"], number>>>> = {
  FLASH_BEGIN: { length: 0, address: 3 },
  FLASH_DEFL_BEGIN: { length: 0, address: 3 },
  MEM_BEGIN: { length: 0, address: 3 },
  FLASH_DATA: { length: 0, sequence: 1 },
  FLASH_DEFL_DATA: { length: 0, sequence: 1 },
  MEM_DATA: { length: 0, sequence: 1 },
  SPI_FLASH_MD5: { address: 0, length: 1 },
  ERASE_REGION: { address: 0, length: 1 },
  READ_FLASH: { address: 0, length: 1 },
  READ_FLASH_SLOW: { address: 0, length: 1 },
};

/** Applies CommandFaults to decoded requests; counts each op as it arrives. */
export class CommandFaults {
  readonly #faults: CommandFault[];
  readonly #seen = new Map<number, number>();

  constructor(faults: CommandFault[] = []) {
    for (const fault of faults) {
      if (FIELD_WORDS[fault.op]?.[fault.field] === undefined) throw new RangeError(`${fault.op} has no ${fault.field} field to damage`);
    }
    this.#faults = faults;
  }

  /** The request's data, damaged if a fault targets this occurrence of its op (a copy; the input is untouched). */
  apply(op: number, data: Uint8Array): Uint8Array {
    if (this.#faults.length === 0) return data;
    const count = (this.#seen.get(op) ?? 0) + 1;
    this.#seen.set(op, count);
    let out = data;
    for (const fault of this.#faults) {
      if (Op[fault.op] !== op || count < fault.nth || count >= fault.nth + (fault.times ?? 1)) continue;
      const at = FIELD_WORDS[fault.op]![fault.field]! * 4;
      if (out.length < at + 4) continue;
      if (out === data) out = data.slice();
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      view.setUint32(at, (view.getUint32(at, true) ^ fault.xor) >>> 0, true);
    }
    return out;
  }
}

/**
 * One answer of the chip lost, damaged or late. Answers carry no checksum: a flipped bit in an MD5 digest reaches
 * the host as a different digest. A late answer (the chip was busy) makes a host that resent meanwhile get two.
 */
export interface ReplyFault {
  op: OpName;
  /** The first command of that op whose answer is affected, counting from 1 (resent commands count too). */
  nth: number;
  /** How many of them in a row (default 1). */
  times?: number;
  /** lost: never sent; damaged: bit 0 of the answer's first data byte flipped; late: sent after `ms` (real time). */
  effect: "lost" | "damaged" | "late";
  ms?: number;
}

/** Picks the ReplyFault, if any, for each command as it arrives; counts each op. */
export class ReplyFaults {
  readonly #faults: ReplyFault[];
  readonly #seen = new Map<number, number>();

  constructor(faults: ReplyFault[] = []) {
    this.#faults = faults;
  }

  next(op: number): ReplyFault | undefined {
    if (this.#faults.length === 0) return undefined;
    const count = (this.#seen.get(op) ?? 0) + 1;
    this.#seen.set(op, count);
    return this.#faults.find((fault) => Op[fault.op] === op && count >= fault.nth && count < fault.nth + (fault.times ?? 1));
  }
}

/** Applies FaultOptions to byte chunks. */
export class FaultInjector {
  readonly #options: FaultOptions;
  #state: number;
  #hostBytes = 0;

  constructor(options: FaultOptions = {}) {
    this.#options = options;
    this.#state = (options.seed ?? 1) >>> 0 || 1;
  }

  get latencyMs(): number {
    return this.#options.latencyMs ?? 0;
  }

  /** True once the host has sent more than disconnectAfterBytes. */
  countHostBytes(count: number): boolean {
    this.#hostBytes += count;
    const limit = this.#options.disconnectAfterBytes;
    return limit !== undefined && this.#hostBytes >= limit;
  }

  apply(bytes: Uint8Array, baud: number): Uint8Array {
    const drop = this.#options.dropRate ?? 0;
    const unreliable = this.#options.unreliableAbove !== undefined && baud > this.#options.unreliableAbove;
    const corrupt = (this.#options.corruptRate ?? 0) + (unreliable ? (this.#options.unreliableRate ?? 0.02) : 0);
    if (drop === 0 && corrupt === 0) return bytes;
    const out: number[] = [];
    for (const byte of bytes) {
      if (drop > 0 && this.#random() < drop) continue;
      out.push(corrupt > 0 && this.#random() < corrupt ? byte ^ (1 << Math.floor(this.#random() * 8)) : byte);
    }
    return Uint8Array.from(out);
  }

  /** mulberry32: small, fast and good enough to pick which bytes to damage. */
  #random(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
