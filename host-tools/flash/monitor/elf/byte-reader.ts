import { EsplabError } from "../../../../firmware/core/errors.ts";

/** An ELF file or its DWARF line information is malformed; the message names the offset and what was expected. */
export class ElfError extends EsplabError {}

/** Bounds-checked little-endian reads over a byte range; every read past the end is an ElfError, never a RangeError. */
export class ByteReader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #what: string;
  offset: number;

  constructor(bytes: Uint8Array, what: string, offset = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
    this.offset = offset;
  }

  get length(): number {
    return this.#bytes.length;
  }

  #need(count: number): number {
    const at = this.offset;
    if (count < 0 || at + count > this.#bytes.length) throw new ElfError("truncated", `${this.#what} ends at byte ${this.#bytes.length}: ${count} more bytes were expected at offset ${at}; the file is incomplete or not what it claims to be`);
    this.offset += count;
    return at;
  }

  u8(): number { return this.#bytes[this.#need(1)]!; }
  i8(): number { return this.#view.getInt8(this.#need(1)); }
  u16(): number { return this.#view.getUint16(this.#need(2), true); }
  u32(): number { return this.#view.getUint32(this.#need(4), true); }
  u64(): number {
    const value = this.#view.getBigUint64(this.#need(8), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError("too-large", `${this.#what} holds a 64-bit value ${value} at offset ${this.offset - 8} that no file this size can use`);
    return Number(value);
  }
  /** An unsigned value of `size` bytes (1, 2, 4 or 8). */
  uint(size: number): number {
    if (size === 1) return this.u8();
    if (size === 2) return this.u16();
    if (size === 4) return this.u32();
    if (size === 8) return this.u64();
    throw new ElfError("bad-size", `${this.#what}: a ${size}-byte value at offset ${this.offset} is not something this reader knows`);
  }
  skip(count: number): void { this.#need(count); }
  bytes(count: number): Uint8Array { const at = this.#need(count); return this.#bytes.subarray(at, at + count); }

  uleb(): number {
    let result = 0, scale = 1;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
      if (scale > 2 ** 56) throw new ElfError("bad-leb128", `${this.#what}: a LEB128 number at offset ${this.offset} runs past 8 bytes`);
    }
  }

  sleb(): number {
    let result = 0, scale = 1, byte: number;
    do {
      byte = this.u8();
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if (scale > 2 ** 56) throw new ElfError("bad-leb128", `${this.#what}: a LEB128 number at offset ${this.offset} runs past 8 bytes`);
    } while (byte & 0x80);
    return byte & 0x40 ? result - scale : result;
  }

  /** A NUL-terminated string (latin-1 is enough for symbol names and paths; other bytes come through as-is). */
  cstring(): string {
    const end = this.#bytes.indexOf(0, this.offset);
    if (end < 0) throw new ElfError("unterminated-string", `${this.#what}: the string at offset ${this.offset} has no terminating NUL`);
    const text = new TextDecoder().decode(this.#bytes.subarray(this.offset, end));
    this.offset = end + 1;
    return text;
  }
}

/** The NUL-terminated string at `offset` of a string table section. */
export function stringAt(table: Uint8Array, offset: number, what: string): string {
  if (offset >= table.length) throw new ElfError("bad-string-offset", `${what}: string offset ${offset} is past the ${table.length}-byte string table`);
  return new ByteReader(table, what, offset).cstring();
}
