import type { ChipName } from "../image/plan.ts";

/** What the loader knows how to recognise. Only the ESP32 is fully supported; the others are named, then refused. */
export interface ChipKind {
  name: ChipName;
  label: string;
  supported: boolean;
}

export const ESP32: ChipKind = { name: "esp32", label: "ESP32", supported: true };
const ESP32S2: ChipKind = { name: "esp32s2", label: "ESP32-S2", supported: false };
const ESP32S3: ChipKind = { name: "esp32s3", label: "ESP32-S3", supported: false };
const ESP32C3: ChipKind = { name: "esp32c3", label: "ESP32-C3", supported: false };

export const CHIP_MAGIC_REGISTER = 0x40001000;

/** Values of the chip-magic register (esptool's CHIP_DETECT_MAGIC_VALUE lists). */
const BY_MAGIC = new Map<number, ChipKind>([
  [0x00f01d83, ESP32],
  [0x000007c6, ESP32S2],
  [0x00000009, ESP32S3],
  [0x6921506f, ESP32C3],
  [0x1b31506f, ESP32C3],
  [0x4881606f, ESP32C3],
  [0x4361606f, ESP32C3],
]);

/** Chip ids in GET_SECURITY_INFO replies (same numbering as the image header's chip id). */
const BY_SECURITY_ID = new Map<number, ChipKind>([
  [9, ESP32S3],
  [5, ESP32C3],
]);

export function chipFromMagic(magic: number): ChipKind | undefined {
  return BY_MAGIC.get(magic >>> 0);
}

export function chipFromSecurityId(id: number): ChipKind | undefined {
  return BY_SECURITY_ID.get(id);
}

/** ESP32 eFuse layout used for MAC, package and revision. */
export const ESP32_EFUSE_BASE = 0x3ff5a000;
export const ESP32_APB_CTL_DATE = 0x3ff6607c;

const ESP32_PACKAGES = ["ESP32-D0WDQ6", "ESP32-D0WD", "ESP32-D2WD", "", "ESP32-U4WDH", "ESP32-PICO-D4", "ESP32-PICO-V3-02"];

/** esptool's ESP32 chip description from eFuse words 3 and 5 and the APB_CTL_DATE register. */
export function describeEsp32(word3: number, word5: number, apbCtlDate: number): { description: string; revision: number; features: string[] } {
  const revision = (word3 >> 15) & 1 ? ((word5 >> 20) & 1 ? ((apbCtlDate >>> 31) & 1 ? 3 : 2) : 1) : 0;
  const pkg = ((word3 >> 9) & 7) + (((word3 >> 2) & 1) << 3);
  const singleCore = (word3 & 1) !== 0;
  const packages = [...ESP32_PACKAGES];
  if (singleCore) {
    packages[0] = "ESP32-S0WDQ6";
    packages[1] = "ESP32-S0WD";
  }
  if (revision === 3) packages[5] = "ESP32-PICO-V3";
  let name = packages[pkg] || "unknown ESP32";
  if (revision === 3 && (pkg === 0 || pkg === 1)) name += "-V3";
  const features = ["Wi-Fi"];
  if ((word3 & 2) === 0) features.push("BT");
  features.push(singleCore ? "Single Core" : "Dual Core");
  return { description: `${name} (revision v${revision}.0)`, revision, features };
}

/** The MAC from eFuse words 1 and 2 (word 2's top half is a CRC). */
export function esp32Mac(word1: number, word2: number): string {
  const bytes = [(word2 >> 8) & 0xff, word2 & 0xff, (word1 >>> 24) & 0xff, (word1 >> 16) & 0xff, (word1 >> 8) & 0xff, word1 & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

export { flashSizeFromId, sizeName as formatSize } from "../image/flash-size.ts";
