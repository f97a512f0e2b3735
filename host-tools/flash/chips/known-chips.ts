import type { ChipFamily, ChipName } from "./chip-family.ts";
import { ESP32 } from "./esp32.ts";
import { ESP32C3 } from "./esp32c3.ts";
import { ESP32C6 } from "./esp32c6.ts";
import { ESP32S2 } from "./esp32s2.ts";
import { ESP32S3 } from "./esp32s3.ts";

/** The chips esplab flashes. */
export const CHIPS: readonly ChipFamily[] = [ESP32, ESP32S2, ESP32S3, ESP32C3, ESP32C6];

export const CHIP_NAMES = CHIPS.map((chip) => chip.name);

/** Chips a board may carry that esplab recognises but does not flash, by image/security-info chip id and magic value. */
const OTHERS: ReadonlyArray<{ label: string; id: number; magic: readonly number[] }> = [
  { label: "ESP32-C2", id: 12, magic: [0x0c21e06f, 0x6f51306f, 0x7c41a06f] },
  { label: "ESP32-H2", id: 16, magic: [0xd7b73e80, 0x97e30068] },
  { label: "ESP32-P4", id: 18, magic: [] },
  { label: "ESP32-C61", id: 20, magic: [0x2421606f, 0x33f0206f, 0x4f81606f] },
  { label: "ESP32-C5", id: 23, magic: [0x1101406f, 0x63e1406f, 0x5fd1406f, 0x30e1706f] },
];

export function chipByName(name: string): ChipFamily | undefined {
  return CHIPS.find((chip) => chip.name === name);
}

export function chipFromMagic(magic: number): ChipFamily | undefined {
  return CHIPS.find((chip) => chip.magicValues.includes(magic >>> 0));
}

/** The chip an image header or a GET_SECURITY_INFO reply names. */
export function chipFromId(id: number): ChipFamily | undefined {
  return CHIPS.find((chip) => chip.imageChipId === id);
}

/** The name of a chip esplab knows of but does not flash, if the id or magic value is one. */
export function otherChipLabel(by: { id?: number; magic?: number }): string | undefined {
  return OTHERS.find((other) => other.id === by.id || (by.magic !== undefined && other.magic.includes(by.magic >>> 0)))?.label;
}

export const SUPPORTED_LABELS = CHIPS.map((chip) => chip.label).join(", ");

export type { ChipFamily, ChipName };
