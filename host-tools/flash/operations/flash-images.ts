import { createHash } from "node:crypto";
import { EsplabError, ProtocolError, TimeoutError } from "../../../firmware/core/errors.ts";
import { MAX_TABLE_LENGTH, PartitionTableError, parsePartitionTable, type PartitionTable } from "../image/partition-table.ts";
import { validateFlashPlan, type FlashRegion } from "../image/plan.ts";
import { CommandFailedError, VerifyError, type WriteProgress } from "../loader/esp-loader.ts";
import type { Session } from "./session.ts";

export const PARTITION_TABLE_OFFSET = 0x8000;

export interface RegionReport {
  name: string;
  address: number;
  size: number;
  /** Bytes sent on the wire (0 when skipped). */
  compressedSize: number;
  /** The chip already held these bytes (same MD5), so nothing was written. */
  skipped: boolean;
  md5: string;
  seconds: number;
  attempts: number;
}

export interface FlashOptions {
  /** Erase the whole flash after validation and before writing (needs the stub); nothing is then skipped. */
  eraseAll?: boolean;
  onErase?: () => void;
  /** Check the chip's MD5 first and leave identical regions alone (default true). */
  skipUnchanged?: boolean;
  compress?: boolean;
  /** Writes per region before giving up after verification or line failures (default 3). */
  attempts?: number;
  /** A region is about to be written (after the unchanged check). */
  onRegionStart?: (region: FlashRegion) => void;
  onProgress?: (region: FlashRegion, progress: WriteProgress) => void;
  onRegionDone?: (report: RegionReport) => void;
}

/** Something went wrong while writing; says which region and that a re-run completes the job. */
export class FlashWriteError extends EsplabError {}

/**
 * Validates every region against the connected chip (magic, chip id, flash size, partitions, overlaps) before
 * touching it, then writes each region that differs and verifies it by MD5. Never reports success without a match.
 */
export async function flashImages(session: Session, regions: FlashRegion[], options: FlashOptions = {}): Promise<RegionReport[]> {
  const partitions = partitionsIn(regions) ?? (await partitionsOnChip(session));
  validateFlashPlan(regions, { chip: session.chip.kind.name, flashSize: session.flashSize, partitions });
  if (options.eraseAll) {
    options.onErase?.();
    await session.loader.eraseFlash();
  }
  const reports: RegionReport[] = [];
  for (const region of regions) {
    const report = await flashRegion(session, region, options);
    reports.push(report);
    options.onRegionDone?.(report);
  }
  return reports;
}

async function flashRegion(session: Session, region: FlashRegion, options: FlashOptions): Promise<RegionReport> {
  const started = performance.now();
  const md5 = createHash("md5").update(region.data).digest("hex");
  const base = { name: region.name, address: region.address, size: region.data.length, md5 };
  if ((options.skipUnchanged ?? true) && !options.eraseAll && (await alreadyOnChip(session, region, md5))) {
    return { ...base, compressedSize: 0, skipped: true, seconds: (performance.now() - started) / 1000, attempts: 0 };
  }
  const compress = options.compress ?? true;
  const attempts = options.attempts ?? 3;
  options.onRegionStart?.(region);
  for (let attempt = 1; ; attempt++) {
    try {
      let sent = 0;
      await session.loader.writeRegion(region.address, region.data, {
        compress,
        onProgress: (progress) => {
          sent = progress.sent;
          options.onProgress?.(region, progress);
        },
      });
      return { ...base, compressedSize: sent, skipped: false, seconds: (performance.now() - started) / 1000, attempts: attempt };
    } catch (error) {
      const retryable = error instanceof VerifyError || error instanceof TimeoutError || error instanceof ProtocolError || error instanceof CommandFailedError;
      if (!retryable || attempt >= attempts) {
        throw new FlashWriteError("write-failed", `writing ${region.name} at 0x${region.address.toString(16)} failed after ${attempt} attempt(s): ${(error as Error).message}\nNothing was reported written for this region; run the same command again to finish (regions already on the chip are skipped).`, { cause: error });
      }
      await session.loader.channel.drain(20, 500);
    }
  }
}

/**
 * Whether the chip already holds the region. The first 4 KB are compared first: when they differ (the usual case
 * for a new build) the hash of the whole region, which costs the chip a pass over all of it, is not needed.
 */
async function alreadyOnChip(session: Session, region: FlashRegion, md5: string): Promise<boolean> {
  const prefix = Math.min(PREFIX_CHECK, region.data.length);
  if (prefix < region.data.length) {
    const prefixMd5 = createHash("md5").update(region.data.subarray(0, prefix)).digest("hex");
    if ((await session.loader.md5(region.address, prefix)) !== prefixMd5) return false;
  }
  return (await session.loader.md5(region.address, region.data.length)) === md5;
}

const PREFIX_CHECK = 0x1000;

/** The partition table among the regions, if one is being flashed, so app sizes can be checked against it. */
function partitionsIn(regions: FlashRegion[]): PartitionTable | undefined {
  const table = regions.find((region) => region.address === PARTITION_TABLE_OFFSET);
  if (!table) return undefined;
  try {
    return parsePartitionTable(table.data, { requireEndMarker: false });
  } catch {
    return undefined;
  }
}

/** The table already on the chip, when the plan brings none (so an app is still checked against its partition). */
async function partitionsOnChip(session: Session): Promise<PartitionTable | undefined> {
  try {
    return parsePartitionTable(await session.loader.readFlash(PARTITION_TABLE_OFFSET, MAX_TABLE_LENGTH), { requireEndMarker: false });
  } catch (error) {
    if (error instanceof PartitionTableError) return undefined;
    throw error;
  }
}
