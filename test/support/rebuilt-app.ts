import { createHash } from "node:crypto";
import { parseAppImage } from "../../host-tools/flash/image/app-image.ts";

/** Where ESP-IDF's app description (esp_app_desc_t) sits in an app image, and two of its fields. */
const APP_DESC = 0x20;
const DESC_TIME = APP_DESC + 0x50;
const DESC_ELF_SHA256 = APP_DESC + 0x90;

/**
 * A stand-in for the app rebuilt after a one-line source change, made from a real app image (no ESP-IDF here to
 * rebuild one): what such a rebuild changes without moving code. The app description's compile time and ELF
 * SHA-256 (first sector), `changed` bytes of code in the middle of the largest segment, and the checksum and
 * SHA-256 at the end, recomputed so the image stays valid. A change that moves code changes more than this.
 */
export function oneLineChange(app: Uint8Array, changed = 300, seed = 1): Uint8Array {
  const out = app.slice();
  const image = parseAppImage(out);
  out.set(new TextEncoder().encode("10:52:08"), DESC_TIME);
  out.set(createHash("sha256").update(`rebuilt ${seed}`).digest(), DESC_ELF_SHA256);
  const code = image.segments.reduce((largest, segment) => (segment.length > largest.length ? segment : largest));
  let state = seed >>> 0 || 1;
  const middle = code.fileOffset + Math.floor(code.length / 2);
  for (let at = middle; at < middle + changed; at++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[at] = (out[at]! + 1 + ((state >>> 24) % 255)) & 0xff; // never the byte it was
  }
  const last = image.segments.at(-1)!;
  const end = last.fileOffset + last.length;
  const checksumAt = end + 15 - (end % 16);
  out[checksumAt] = parseAppImage(out).checksum.computed;
  if (image.hash) out.set(createHash("sha256").update(out.subarray(0, checksumAt + 1)).digest(), checksumAt + 1);
  return out;
}
