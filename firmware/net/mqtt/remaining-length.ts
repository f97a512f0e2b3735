/**
 * The Remaining Length field of the fixed header (MQTT 3.1.1 §2.2.3): seven bits per byte, low group first, the top
 * bit set while more bytes follow; at most four bytes.
 */
import { MAX_REMAINING_LENGTH } from "./packets.ts";

export function remainingLengthSize(length: number): number {
  return length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x20_0000 ? 3 : 4;
}

/** Writes `length` at `at`; returns the offset after it. The caller has checked 0 ≤ length ≤ MAX_REMAINING_LENGTH. */
export function writeRemainingLength(out: Uint8Array, at: number, length: number): number {
  do {
    let byte = length % 0x80;
    length = Math.floor(length / 0x80);
    if (length > 0) byte |= 0x80;
    out[at++] = byte;
  } while (length > 0);
  return at;
}

export function isValidRemainingLength(length: number): boolean {
  return Number.isInteger(length) && length >= 0 && length <= MAX_REMAINING_LENGTH;
}
