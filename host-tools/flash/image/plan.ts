import { EsplabError } from "../../../firmware/core/errors.ts";
import { chipByName, type ChipName } from "../chips/known-chips.ts";
import { IMAGE_MAGIC, ImageError, parseAppImage } from "./app-image.ts";
import { parsePartitionTable, type PartitionTable } from "./partition-table.ts";

export type { ChipName };

/** Where the chip's ROM looks for the second-stage bootloader. */
export const bootloaderOffset = (chip: ChipName) => chipByName(chip)!.bootloaderOffset;

/** Where ESP-IDF's bootloader reads the partition table (CONFIG_PARTITION_TABLE_OFFSET's default). */
export const PARTITION_TABLE_OFFSET = 0x8000;

export interface FlashRegion { address: number; data: Uint8Array; name: string }
export interface FlashPlanOptions {
  flashSize: number;
  chip: ChipName;
  partitions?: PartitionTable;
  /** The board's chip revision as images state theirs (major × 100 + minor), when known: images must allow it. */
  chipRevision?: number;
}
export interface FlashPlanProblem { region: string; problem: string; fix: string }
/** Something the plan will do that the user may not expect, though it is not an error. */
export interface FlashPlanWarning { region: string; message: string }

/** The flash erases in 4 KB sectors: the smallest unit a write can start on without wiping its neighbours. */
export const FLASH_SECTOR = 0x1000;

/** A flash plan would write something the chip cannot boot or that does not fit; `problems` lists them all. */
export class FlashPlanError extends EsplabError {
  readonly problems: FlashPlanProblem[];
  constructor(problems: FlashPlanProblem[]) {
    super("bad-flash-plan", `flash plan has ${problems.length} problem(s):\n` + problems.map((p) => `  - ${p.region}: ${p.problem} — ${p.fix}`).join("\n"));
    this.problems = problems;
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * Checks a set of regions before any byte is written. Throws FlashPlanError listing every problem; returns warnings
 * (a region that does not start on a sector, whose sector's earlier bytes the write will erase).
 */
export function validateFlashPlan(regions: FlashRegion[], options: FlashPlanOptions): FlashPlanWarning[] {
  const problems: FlashPlanProblem[] = [];
  const warnings: FlashPlanWarning[] = [];
  const appOffsets = new Map((options.partitions?.entries ?? []).filter((e) => e.type === 0).map((e) => [e.offset, e]));
  for (const region of regions) {
    const end = region.address + region.data.length;
    if (end > options.flashSize) {
      problems.push({ region: region.name, problem: `ends at ${hex(end)}, past the ${hex(options.flashSize)}-byte flash`, fix: "use a board with more flash or shrink the image/partition layout" });
    }
    const partition = appOffsets.get(region.address);
    const expectsImage = region.address === bootloaderOffset(options.chip) || partition !== undefined;
    // Anything else that starts like an image is still checked, so an app for another chip is caught anywhere.
    if (!expectsImage && region.data[0] !== IMAGE_MAGIC) continue;
    if (region.data[0] !== IMAGE_MAGIC) {
      problems.push({ region: region.name, problem: `at ${hex(region.address)} an app/bootloader image is expected but byte 0 is ${hex(region.data[0] ?? 0)}, not 0xe9`, fix: "flash the .bin from the build (not the .elf) at this address" });
      continue;
    }
    try {
      const image = parseAppImage(region.data);
      const board = chipByName(options.chip)!;
      if (image.extended.chipId !== board.imageChipId) {
        problems.push({ region: region.name, problem: `this image is for ${image.extended.chipName} but the board is an ${board.label}`, fix: `build for -p ${options.chip}` });
      } else if (options.chipRevision !== undefined) {
        const problem = revisionProblem(image.extended, options.chip, options.chipRevision);
        if (problem) problems.push({ region: region.name, problem: `${problem} (this board's ${board.label} is v${Math.floor(options.chipRevision / 100)}.${options.chipRevision % 100})`, fix: "build with a minimum chip revision this board has (ESP-IDF's CONFIG_ESP32..._REV_MIN), or use a board of a revision the image allows" });
      }
    } catch (error) {
      if (!(error instanceof ImageError)) throw error;
      problems.push({ region: region.name, problem: error.message, fix: "rebuild the image" });
    }
    if (partition && region.data.length > partition.size) {
      problems.push({ region: region.name, problem: `${region.data.length} bytes do not fit partition "${partition.name}" (${partition.size} bytes)`, fix: "make the app smaller or the partition larger in partitions.csv" });
    }
  }
  const sorted = [...regions].sort((a, b) => a.address - b.address);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!, cur = sorted[i]!;
    const prevEnd = prev.address + prev.data.length;
    if (prevEnd > cur.address) {
      problems.push({ region: cur.name, problem: `starts at ${hex(cur.address)}, inside ${prev.name} (${hex(prev.address)}..${hex(prevEnd)})`, fix: "move one of them; regions must not overlap" });
    } else if (sectorOf(prevEnd - 1) === sectorOf(cur.address)) {
      // Writing a region erases every sector it touches, so the second write would wipe the end of the first.
      const sector = sectorOf(cur.address);
      problems.push({ region: cur.name, problem: `at ${hex(cur.address)} shares the 4 KB erase sector ${hex(sector)}..${hex(sector + FLASH_SECTOR)} with ${prev.name} at ${hex(prev.address)}..${hex(prevEnd)}; writing one erases the other`, fix: `move it to ${hex(sector + FLASH_SECTOR)}, or join both into one file` });
    }
  }
  for (const region of regions) {
    if (region.address % FLASH_SECTOR === 0) continue;
    const aligned = sectorOf(region.address);
    warnings.push({ region: region.name, message: `${hex(region.address)} is not 4 KB-aligned: the chip erases whole sectors, so ${hex(aligned)}..${hex(region.address)} (${region.address - aligned} bytes before it) will be erased too; flash at ${hex(aligned)} to avoid surprises` });
  }
  if (problems.length > 0) throw new FlashPlanError(problems);
  return warnings;
}

const version = (full: number) => `v${Math.floor(full / 100)}.${full % 100}`;

/**
 * Whether the image's revision range admits the chip, read as esptool's write_flash reads it: images from ESP-IDF 5
 * on carry min/max_rev_full (major × 100 + minor; a max of 65535 is "not set"), older ones only min_rev, which is
 * the minor revision on the ESP32-C3 and the major one elsewhere. A zero max means the fields are absent.
 */
function revisionProblem(header: { minRev: number; minFullRev: number; maxFullRev: number }, chip: ChipName, revision: number): string | undefined {
  const useFull = header.maxFullRev !== 0 && !(header.maxFullRev === 0xffff && header.minFullRev === 0 && header.minRev !== 0);
  if (useFull) {
    if (revision >= header.minFullRev && revision <= header.maxFullRev) return undefined;
    return header.maxFullRev === 0xffff ? `this image needs chip revision ${version(header.minFullRev)} or later` : `this image needs a chip revision from ${version(header.minFullRev)} to ${version(header.maxFullRev)}`;
  }
  const legacy = chip === "esp32c3" ? revision % 100 : Math.floor(revision / 100);
  return legacy < header.minRev ? `this image needs chip revision ${header.minRev} or later (esptool's legacy min_rev, the ${chip === "esp32c3" ? "minor" : "major"} revision)` : undefined;
}

const sectorOf = (address: number) => address - (address % FLASH_SECTOR);

/** The partition table among the regions, if one is being written, so app sizes can be checked against it. */
export function partitionsIn(regions: FlashRegion[]): PartitionTable | undefined {
  const table = regions.find((region) => region.address === PARTITION_TABLE_OFFSET);
  if (!table) return undefined;
  try {
    return parsePartitionTable(table.data, { requireEndMarker: false });
  } catch {
    return undefined;
  }
}
