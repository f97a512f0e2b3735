import { createHash } from "node:crypto";

/**
 * Builds a valid ESP32-family app image (esptool's bin_image.py layout: 8-byte header, 16-byte extended header with
 * the chip id, segments, the XOR checksum after 16-byte padding, the SHA-256 appended) with `size` bytes of
 * segment data: half of it text-like and compressible, half random, as a real app's code and data roughly are.
 * For the chips whose full app images esptool's test data does not include (ESP32-S3, ESP32-C6).
 */
export function syntheticAppImage(chipId: number, size: number, seed = 1, revisions: { minRev?: number; minFullRev?: number; maxFullRev?: number } = {}): Uint8Array {
  const segments = [{ address: 0x3c000020, length: align4(Math.floor(size / 2)) }, { address: 0x42000020, length: align4(size - Math.floor(size / 2)) }];
  let state = seed >>> 0 || 1;
  const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24);
  const body: number[] = [];
  const header = [0xe9, segments.length, 0x02, 0x20, ...le32(0x40380000)];
  const { minRev = 0, minFullRev = 0, maxFullRev = 0xffff } = revisions;
  const extended = [0xee, 0, 0, 0, chipId & 0xff, chipId >> 8, minRev, minFullRev & 0xff, minFullRev >> 8, maxFullRev & 0xff, maxFullRev >> 8, 0, 0, 0, 0, 1];
  let checksum = 0xef;
  for (const [index, segment] of segments.entries()) {
    body.push(...le32(segment.address), ...le32(segment.length));
    for (let i = 0; i < segment.length; i++) {
      const byte = index === 0 ? "esplab synthetic image ".charCodeAt(i % 23) ^ (i >> 12) : random();
      checksum ^= byte;
      body.push(byte);
    }
  }
  const unpadded = header.length + extended.length + body.length;
  const padding = 15 - (unpadded % 16);
  const image = Uint8Array.from([...header, ...extended, ...body, ...new Array(padding).fill(0), checksum]);
  const hash = createHash("sha256").update(image).digest();
  const out = new Uint8Array(image.length + 32);
  out.set(image);
  out.set(hash, image.length);
  return out;
}

const align4 = (n: number) => n - (n % 4);
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
