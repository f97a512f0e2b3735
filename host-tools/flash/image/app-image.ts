import { createHash } from "node:crypto";
import { ImageError } from "./errors.ts";

export { ImageError };

export const IMAGE_MAGIC = 0xe9;
const CHECKSUM_SEED = 0xef;
const MAX_SEGMENTS = 16;

/** Chip ids from the extended header, as esptool names them. */
export const CHIP_NAMES: Record<number, string> = {
  0: "ESP32", 2: "ESP32-S2", 5: "ESP32-C3", 9: "ESP32-S3", 12: "ESP32-C2", 13: "ESP32-C6", 16: "ESP32-H2",
};

export interface ImageSegment { index: number; loadAddress: number; length: number; fileOffset: number }

export interface AppImage {
  segmentCount: number;
  flashModeByte: number;
  flashSizeFreqByte: number;
  entry: number;
  extended: { wpPin: number; chipId: number; chipName: string; minRev: number; minFullRev: number; maxFullRev: number; hashAppended: boolean };
  segments: ImageSegment[];
  checksum: { stored: number; computed: number; valid: boolean };
  hash?: { stored: Uint8Array; computed: Uint8Array; valid: boolean };
}

function need(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (offset + length > bytes.length) {
    throw new ImageError("truncated", `image truncated at byte ${bytes.length}: expected ${what} (${length} bytes at offset ${offset}); the file is incomplete — rebuild or re-read it`);
  }
}

/** Parses an ESP32-family app or bootloader image (esptool's bin_image.py layout). Throws only ImageError. */
export function parseAppImage(bytes: Uint8Array): AppImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  need(bytes, 0, 24, "the 8-byte image header and 16-byte extended header");
  if (bytes[0] !== IMAGE_MAGIC) {
    throw new ImageError("bad-magic", `not an ESP32 image: byte 0 is 0x${bytes[0]!.toString(16).padStart(2, "0")}, expected 0xe9; pass a .bin from the build, not an ELF or a partition table`);
  }
  const segmentCount = bytes[1]!;
  if (segmentCount > MAX_SEGMENTS) throw new ImageError("bad-segment-count", `image claims ${segmentCount} segments, at most ${MAX_SEGMENTS} are possible; the file is corrupt`);
  const extended = {
    wpPin: bytes[8]!, chipId: view.getUint16(12, true), chipName: CHIP_NAMES[view.getUint16(12, true)] ?? `unknown chip ${view.getUint16(12, true)}`,
    minRev: bytes[14]!, minFullRev: view.getUint16(15, true), maxFullRev: view.getUint16(17, true), hashAppended: bytes[23] === 1,
  };
  const segments: ImageSegment[] = [];
  let offset = 24;
  let checksum = CHECKSUM_SEED;
  for (let index = 0; index < segmentCount; index++) {
    need(bytes, offset, 8, `segment ${index} header`);
    const loadAddress = view.getUint32(offset, true);
    const length = view.getUint32(offset + 4, true);
    need(bytes, offset + 8, length, `segment ${index} data`);
    for (let i = offset + 8; i < offset + 8 + length; i++) checksum ^= bytes[i]!;
    segments.push({ index, loadAddress, length, fileOffset: offset + 8 });
    offset += 8 + length;
  }
  const checksumOffset = offset + 15 - (offset % 16);
  need(bytes, checksumOffset, 1, "the checksum byte");
  const stored = bytes[checksumOffset]!;
  const image: AppImage = {
    segmentCount, flashModeByte: bytes[2]!, flashSizeFreqByte: bytes[3]!, entry: view.getUint32(4, true), extended, segments,
    checksum: { stored, computed: checksum, valid: stored === checksum },
  };
  if (extended.hashAppended) {
    const hashEnd = checksumOffset + 1;
    need(bytes, hashEnd, 32, "the appended SHA-256");
    const computed = new Uint8Array(createHash("sha256").update(bytes.subarray(0, hashEnd)).digest());
    const storedHash = bytes.slice(hashEnd, hashEnd + 32);
    image.hash = { stored: storedHash, computed, valid: computed.every((b, i) => b === storedHash[i]) };
  }
  return image;
}
