import { UsageError } from "../core/errors.ts";

/**
 * A key that cannot be read: bad PEM armour, bad base64, DER that breaks its rules, or a key of the wrong kind.
 * The only error the key parser throws, whatever bytes it is given; `code` is always "BAD_PRIVATE_KEY".
 */
export class KeyFormatError extends UsageError {
  constructor(message: string) {
    super("BAD_PRIVATE_KEY", message);
  }
}

export const TAG_INTEGER = 0x02;
export const TAG_OCTET_STRING = 0x04;
export const TAG_NULL = 0x05;
export const TAG_OID = 0x06;
export const TAG_SEQUENCE = 0x30;

/**
 * Reads DER (X.690) one element at a time, within [start, end) of `bytes`. Only what a private key needs: single-byte
 * tags, definite lengths of up to four bytes. Every read is checked against the bounds, and each byte is looked at a
 * fixed number of times, so any input costs time linear in its length.
 */
export class DerReader {
  readonly #bytes: Uint8Array;
  #at: number;
  readonly #end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#at = start;
    this.#end = end;
  }

  get done(): boolean {
    return this.#at >= this.#end;
  }

  /** The tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.done ? undefined : this.#bytes[this.#at];
  }

  /** Reads the next element, which must have `tag`; returns a reader over its contents. */
  read(tag: number, what: string): DerReader {
    const { start, end } = this.#element(tag, what);
    return new DerReader(this.#bytes, start, end);
  }

  /** Reads the next element's contents as bytes. */
  readBytes(tag: number, what: string): Uint8Array {
    const { start, end } = this.#element(tag, what);
    return this.#bytes.subarray(start, end);
  }

  /** Skips the next element, whatever it is. */
  skip(what: string): void {
    const tag = this.peekTag();
    if (tag === undefined) throw new KeyFormatError(`the key ends where ${what} should be`);
    this.#element(tag, what);
  }

  /** A non-negative INTEGER of at most `maxBytes` bytes (leading zero not counted), as a BigInt. */
  readUnsigned(what: string, maxBytes: number): bigint {
    const content = this.readBytes(TAG_INTEGER, what);
    if (content.length === 0) throw new KeyFormatError(`${what} is an empty INTEGER`);
    if (content[0]! & 0x80) throw new KeyFormatError(`${what} is negative; an RSA key's numbers are all positive`);
    let first = 0;
    while (first < content.length - 1 && content[first] === 0) first++;
    if (content.length - first > maxBytes) throw new KeyFormatError(`${what} is ${content.length - first} bytes long, more than the ${maxBytes} an RSA key of up to ${maxBytes * 8} bits has`);
    return bytesToBigInt(content.subarray(first));
  }

  /** Checks that nothing follows inside this element. */
  expectEnd(what: string): void {
    if (!this.done) throw new KeyFormatError(`unexpected bytes after ${what}`);
  }

  #element(tag: number, what: string): { start: number; end: number } {
    const bytes = this.#bytes;
    if (this.#at >= this.#end) throw new KeyFormatError(`the key ends where ${what} should be`);
    const found = bytes[this.#at]!;
    if (found !== tag) throw new KeyFormatError(`expected ${what} (DER tag 0x${hex(tag)}), found tag 0x${hex(found)} at byte ${this.#at}`);
    let at = this.#at + 1;
    if (at >= this.#end) throw new KeyFormatError(`the key ends inside the length of ${what}`);
    let length = bytes[at++]!;
    if (length === 0x80) throw new KeyFormatError(`${what} has an indefinite length, which DER does not allow`);
    if (length > 0x80) {
      const count = length - 0x80;
      if (count > 4) throw new KeyFormatError(`${what} claims a length of ${count} bytes: far larger than any key`);
      if (at + count > this.#end) throw new KeyFormatError(`the key ends inside the length of ${what}`);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[at++]!;
    }
    if (length > this.#end - at) throw new KeyFormatError(`${what} claims ${length} bytes but only ${this.#end - at} follow: the key is cut short`);
    this.#at = at + length;
    return { start: at, end: at + length };
  }
}

/** Big-endian bytes as a BigInt. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let text = "0x";
  for (let i = 0; i < bytes.length; i++) text += HEX[bytes[i]!];
  return BigInt(text);
}

/** A BigInt as exactly `length` big-endian bytes (it must fit). */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const text = value.toString(16);
  const digits = text.length;
  if (digits > length * 2) throw new RangeError(`a ${digits * 4}-bit number does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  // Right-aligned: the last hex digit is the low nibble of the last byte.
  for (let i = 0; i < digits; i++) {
    const nibble = parseInt(text[digits - 1 - i]!, 16);
    out[length - 1 - (i >> 1)] |= i & 1 ? nibble << 4 : nibble;
  }
  return out;
}

// Frozen, so Moddable's linker keeps it in flash rather than copying it to RAM at boot.
const HEX: readonly string[] = Object.freeze(Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0")));

function hex(byte: number): string {
  return HEX[byte]!;
}
