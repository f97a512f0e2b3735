import { parseAppImage, type AppImage } from "./app-image.ts";
import { memoryTypes } from "./memory-map.ts";

const MODES = ["QIO", "QOUT", "DIO", "DOUT"];
const SIZES = ["1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB"];
const FREQS: Record<number, string> = { 0x0: "40m", 0x1: "26m", 0x2: "20m", 0xf: "80m" };
const APP_DESC_MAGIC = 0xabcd5432;

export interface AppDescription { secureVersion: number; version: string; projectName: string; time: string; date: string; idfVersion: string; elfSha256: string }

const raw = (b: Uint8Array) => String.fromCharCode(...b);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const h = (n: number, w = 0) => `0x${n.toString(16).padStart(w, "0")}`;

/** esp_app_desc_t at the start of the first DROM segment, when its magic is there. Strings keep their NUL padding, as esptool prints them. */
export function readAppDescription(bytes: Uint8Array, image: AppImage): AppDescription | undefined {
  const chip = image.extended.chipId;
  const drom = image.segments.find((s) => memoryTypes(chip, s.loadAddress).includes("DROM"));
  if (!drom || drom.length < 256) return undefined;
  const d = bytes.subarray(drom.fileOffset, drom.fileOffset + 256);
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (view.getUint32(0, true) !== APP_DESC_MAGIC) return undefined;
  return {
    secureVersion: view.getUint32(4, true), version: raw(d.subarray(16, 48)), projectName: raw(d.subarray(48, 80)),
    time: raw(d.subarray(80, 96)), date: raw(d.subarray(96, 112)), idfVersion: raw(d.subarray(112, 144)), elfSha256: hex(d.subarray(144, 176)),
  };
}

function title(text: string): string[] { return [text, "=".repeat(text.length)]; }

/** The lines esptool v4.8.1 `image_info --version 2` prints after its version banner. */
export function formatImageInfo(bytes: Uint8Array): string {
  const image = parseAppImage(bytes);
  const chip = image.extended.chipName;
  const e = image.extended;
  const lines = [`File size: ${bytes.length} (bytes)`, `Detected image type: ${chip}`, ""];
  lines.push(...title(`${chip} image header`), "Image version: 1", `Entry point: ${h(image.entry, 8)}`, `Segments: ${image.segmentCount}`,
    `Flash size: ${SIZES[image.flashSizeFreqByte >> 4] ?? "unknown"}`, `Flash freq: ${FREQS[image.flashSizeFreqByte & 0xf] ?? "unknown"}`,
    `Flash mode: ${MODES[image.flashModeByte] ?? "UNKNOWN"}`, "");
  const d = (i: number, hi: boolean) => h(hi ? bytes[i]! >> 4 : bytes[i]! & 0xf);
  lines.push(...title(`${chip} extended image header`), `WP pin: ${h(e.wpPin)}${e.wpPin === 0xee ? " (disabled)" : ""}`,
    `Flash pins drive settings: clk_drv: ${d(9, false)}, q_drv: ${d(9, true)}, d_drv: ${d(10, false)}, cs0_drv: ${d(10, true)}, hd_drv: ${d(11, false)}, wp_drv: ${d(11, true)}`,
    `Chip ID: ${e.chipId} (${chip})`, `Minimal chip revision: v${Math.floor(e.minFullRev / 100)}.${e.minFullRev % 100}, (legacy min_rev = ${e.minRev})`,
    `Maximal chip revision: v${Math.floor(e.maxFullRev / 100)}.${e.maxFullRev % 100}`, "");
  lines.push(...title("Segments information"), "Segment   Length   Load addr   File offs  Memory types", "-------  -------  ----------  ----------  ------------");
  for (const s of image.segments) {
    lines.push(`${String(s.index).padStart(7)}  ${h(s.length, 5)}  ${h(s.loadAddress, 8)}  ${h(s.fileOffset - 8, 8)}  ${memoryTypes(e.chipId, s.loadAddress).join(", ")}`);
  }
  lines.push("", ...title(`${chip} image footer`), `Checksum: ${h(image.checksum.stored)} (${image.checksum.valid ? "valid" : `invalid - calculated ${h(image.checksum.computed)}`})`);
  if (image.hash) lines.push(`Validation hash: ${hex(image.hash.stored)} (${image.hash.valid ? "valid" : `invalid (calculated ${hex(image.hash.computed)})`})`);
  const desc = readAppDescription(bytes, image);
  if (desc) {
    lines.push("", ...title("Application information"), `Project name: ${desc.projectName}`, `App version: ${desc.version}`,
      `Compile time: ${desc.date} ${desc.time}`, `ELF file SHA256: ${desc.elfSha256}`, `ESP-IDF: ${desc.idfVersion}`, `Secure version: ${desc.secureVersion}`);
  }
  return lines.join("\n") + "\n";
}
