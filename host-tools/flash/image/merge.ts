import { EsplabError } from "../../../firmware/core/errors.ts";
import { patchBootloader, type FlashParams } from "./flash-params.ts";
import { toIntelHex } from "./intel-hex.ts";
import { bootloaderOffset, partitionsIn, validateFlashPlan, type ChipName, type FlashPlanWarning, type FlashRegion } from "./plan.ts";

/** The ESP32 addresses flash with 32 bits; without a size to fill to, anything below 4 GB is accepted. */
const NO_LIMIT = 2 ** 32;

export class MergeError extends EsplabError {}

export interface MergeOptions {
  chip: ChipName;
  /** Where the raw output will be flashed (esptool's --target-offset); the first region may not start before it. */
  targetOffset?: number;
  /** Fill the raw output with 0xFF up to this flash size (esptool's --pad-to-size, formerly --fill-flash-size). */
  padTo?: number;
  header?: FlashParams;
}

export interface MergedImage {
  regions: FlashRegion[];
  warnings: FlashPlanWarning[];
  notes: string[];
  /** One image for the flash from targetOffset, gaps filled with 0xFF (erased flash), as esptool's raw format. */
  raw(): Uint8Array;
  hex(): string;
}

/**
 * Merges images into one, as esptool's merge_bin: checked first like a flash plan (chip, partitions, no two regions
 * in one 4 KB sector, fits the size to fill), the bootloader's header patched as flashing would.
 */
export function mergeImages(regions: FlashRegion[], options: MergeOptions): MergedImage {
  if (regions.length === 0) throw new MergeError("no-input", "merge-bin needs at least one ADDR FILE pair");
  const targetOffset = options.targetOffset ?? 0;
  const sorted = [...regions].sort((a, b) => a.address - b.address);
  if (sorted[0]!.address < targetOffset) throw new MergeError("before-target-offset", `${sorted[0]!.name} is at 0x${sorted[0]!.address.toString(16)}, before the --target-offset 0x${targetOffset.toString(16)} the output starts at; lower --target-offset or drop that file`);
  const notes: string[] = [];
  const patched = sorted.map((region) => {
    if (region.address !== bootloaderOffset(options.chip) || !options.header) return region;
    const { data, note } = patchBootloader(region.data, options.header);
    if (note) notes.push(note);
    return { ...region, data };
  });
  const warnings = validateFlashPlan(patched, { chip: options.chip, flashSize: options.padTo ?? NO_LIMIT, partitions: partitionsIn(patched) });
  const end = Math.max(...patched.map((r) => r.address + r.data.length), options.padTo ?? 0);
  return {
    regions: patched,
    warnings,
    notes,
    raw() {
      const out = new Uint8Array(end - targetOffset).fill(0xff);
      for (const region of patched) out.set(region.data, region.address - targetOffset);
      return out;
    },
    hex: () => toIntelHex(patched),
  };
}
