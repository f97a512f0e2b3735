import { createHash } from "node:crypto";
import { EsplabError, ProtocolError, TimeoutError } from "../../../firmware/core/errors.ts";
import { parsePartitionTable, type PartitionTable } from "../image/partition-table.ts";
import { FLASH_SECTOR, partitionsIn, validateFlashPlan, type FlashPlanWarning, type FlashRegion } from "../image/plan.ts";
import { CommandFailedError, VerifyError, type WriteProgress } from "../loader/esp-loader.ts";
import { DIFF_LEVELS, diffRegion, type RegionDiff, type Span } from "./block-diff.ts";
import { LinkTuner } from "./link-tuner.ts";
import { partitionsOnChip } from "./partition-target.ts";
import { hex } from "./numbers.ts";
import type { Session } from "./session.ts";


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
  /** Written again because the check of the whole plan found it damaged after it had been verified. */
  repaired?: boolean;
  /** When only the changed sectors were written: how many of the region's erase sectors that was. */
  sectors?: number;
  changedSectors?: number;
}

export interface FlashOptions {
  /** Erase the whole flash after validation and before writing (needs the stub); nothing is then skipped. */
  eraseAll?: boolean;
  onErase?: () => void;
  /** Check the chip's MD5 first and leave identical regions alone (default true). */
  skipUnchanged?: boolean;
  /** Ask the chip for the MD5 of each erase block and write only the sectors that differ (default true). */
  diff?: boolean;
  /** The block sizes the diff asks about, coarsest first (DIFF_LEVELS unless told; for comparisons). */
  diffLevels?: readonly number[];
  compress?: boolean;
  /** Writes per region, at each link setting, before giving up after verification or line failures (default 3). */
  attempts?: number;
  /** false: keep the first block size and baud whatever the line does (for comparisons). */
  adaptLink?: boolean;
  /** Something in the plan worth knowing that is not an error (an unaligned address). */
  onWarning?: (warning: FlashPlanWarning) => void;
  /** A region is about to be written (after the unchanged check); `diff` says which sectors, when diffing. */
  onRegionStart?: (region: FlashRegion, diff?: RegionDiff) => void;
  onProgress?: (region: FlashRegion, progress: WriteProgress) => void;
  onRegionDone?: (report: RegionReport) => void;
  /** The line failed a write, and the next try uses smaller blocks or a lower baud (described). */
  onLinkChange?: (description: string) => void;
  /** Every region was checked again after the last write, in `seconds`. */
  onPlanVerified?: (seconds: number) => void;
  /** These regions no longer held their image after later writes and are written again. */
  onRepair?: (regions: FlashRegion[]) => void;
}

/** Something went wrong while writing; says which region and that a re-run completes the job. */
export class FlashWriteError extends EsplabError {}

/** Rounds of rewriting regions that a later write damaged, before the plan is declared not to hold. */
const REPAIR_ROUNDS = 2;

/**
 * Validates every region against the connected chip (magic, chip id, flash size, partitions, sector overlaps) before
 * touching it, then writes each region that differs and verifies it by MD5. Once anything has been written, every
 * region is checked again: a damaged command (a BEGIN carries no checksum) can land a write on a region verified
 * earlier. Success is reported only when the whole plan is on the chip.
 */
export async function flashImages(session: Session, regions: FlashRegion[], options: FlashOptions = {}): Promise<RegionReport[]> {
  const partitions = partitionsIn(regions) ?? (await partitionsOnChip(session));
  const warnings = validateFlashPlan(regions, { chip: session.chip.kind.name, chipRevision: session.chip.revisionNumber, flashSize: session.flashSize, partitions });
  for (const warning of warnings) options.onWarning?.(warning);
  // The ROM cannot start a write inside a sector: pad with erased bytes back to it, as esptool does.
  const planned = session.loader.isStub ? regions : regions.map(alignToSector);
  if (options.eraseAll) {
    options.onErase?.();
    await session.loader.eraseFlash();
  }
  const tuner = new LinkTuner(session);
  const reports: RegionReport[] = [];
  for (const region of planned) {
    const report = await flashRegion(session, region, tuner, options);
    reports.push(report);
    options.onRegionDone?.(report);
  }
  if (reports.some((report) => !report.skipped)) await holdWholePlan(session, planned, reports, tuner, options);
  return reports;
}

/** Checks every region's MD5 again; rewrites the ones a later write damaged (bounded), or fails naming them. */
async function holdWholePlan(session: Session, regions: FlashRegion[], reports: RegionReport[], tuner: LinkTuner, options: FlashOptions): Promise<void> {
  for (let round = 0; ; round++) {
    const started = performance.now();
    const damaged: number[] = [];
    for (const [index, region] of regions.entries()) {
      const md5 = await session.loader.md5(region.address, region.data.length).catch((error: unknown) => {
        throw new FlashWriteError("plan-check-failed", `every region was verified as it was written, but checking ${region.name} at ${hex(region.address)} again afterwards failed: ${(error as Error).message}\nSo the whole plan is not known to be on the chip; run the same command again (regions already on the chip are skipped).`, { cause: error });
      });
      if (md5 !== reports[index]!.md5) damaged.push(index);
    }
    if (damaged.length === 0) return options.onPlanVerified?.((performance.now() - started) / 1000);
    const names = damaged.map((index) => `${regions[index]!.name} at ${hex(regions[index]!.address)}`).join(", ");
    if (round >= REPAIR_ROUNDS) {
      throw new FlashWriteError("plan-not-held", `after writing, ${names} no longer held what was written, even after ${REPAIR_ROUNDS} rewrites: later writes keep landing on it, which a damaged command on the line does.\nThe board is not fully flashed. Check the USB cable, try a lower --baud, and run the same command again.`);
    }
    options.onRepair?.(damaged.map((index) => regions[index]!));
    for (const index of damaged) {
      const previous = reports[index]!;
      const report = await writeRegion(session, regions[index]!, tuner, options, performance.now(), previous);
      reports[index] = { ...report, attempts: previous.attempts + report.attempts, repaired: true };
    }
  }
}

async function flashRegion(session: Session, region: FlashRegion, tuner: LinkTuner, options: FlashOptions): Promise<RegionReport> {
  const started = performance.now();
  const md5 = createHash("md5").update(region.data).digest("hex");
  const base = { name: region.name, address: region.address, size: region.data.length, md5 };
  const skipped = () => ({ ...base, compressedSize: 0, skipped: true, seconds: (performance.now() - started) / 1000, attempts: 0 });
  const compare = (options.skipUnchanged ?? true) && !options.eraseAll;
  if (compare && (options.diff ?? true)) {
    const diff = await diffRegion(session.loader, region, options.diffLevels ?? DIFF_LEVELS);
    if (diff.unchanged) return skipped();
    options.onRegionStart?.(region, diff);
    return writeChanged(session, region, diff, tuner, options, started, base);
  }
  if (compare && (await alreadyOnChip(session, region, md5))) return skipped();
  options.onRegionStart?.(region);
  return writeRegion(session, region, tuner, options, started, base);
}

/**
 * Writes the changed spans of a region, each on its own (so only their sectors are erased) and verified by its own
 * MD5; the check of the whole plan afterwards verifies the region as a whole. Progress counts the changed bytes.
 */
async function writeChanged(session: Session, region: FlashRegion, diff: RegionDiff, tuner: LinkTuner, options: FlashOptions, started: number, base: Pick<RegionReport, "name" | "address" | "size" | "md5">): Promise<RegionReport> {
  const total = diff.changed.reduce((sum, span) => sum + span.end - span.start, 0);
  let written = 0;
  let sent = 0;
  let attempts = 0;
  for (const span of diff.changed) {
    const part = partOf(region, span);
    const before = { written, sent };
    const report = await writeRegion(session, part, tuner, {
      ...options,
      onProgress: (_part, progress) => options.onProgress?.(region, { written: before.written + progress.written, total, sent: before.sent + progress.sent }),
    }, performance.now(), base);
    written += part.data.length;
    sent += report.compressedSize;
    attempts = Math.max(attempts, report.attempts);
  }
  return { ...base, compressedSize: sent, skipped: false, seconds: (performance.now() - started) / 1000, attempts, sectors: diff.sectors, changedSectors: diff.changedSectors };
}

function partOf(region: FlashRegion, span: Span): FlashRegion {
  return { ...region, address: span.start, data: region.data.subarray(span.start - region.address, span.end - region.address) };
}

/**
 * Writes a region until its MD5 matches. A write the line defeats (blocks lost more often than smaller ones would be,
 * or one lost on every try) is tried again with smaller blocks or a lower baud; `attempts` failures are allowed at
 * each setting. Once the line has proved noisy, the rest of the region goes in pieces of at most 64 KB, each its own
 * compressed stream checked by its own MD5, so a failure costs one piece instead of the region: the data blocks'
 * 8-bit checksum lets about one damaged block in eight with two bad bytes through, which breaks the stream.
 */
async function writeRegion(session: Session, region: FlashRegion, tuner: LinkTuner, options: FlashOptions, started: number, base: Pick<RegionReport, "name" | "address" | "size" | "md5">): Promise<RegionReport> {
  const compress = options.compress ?? true;
  const attempts = options.attempts ?? 3;
  const adapt = options.adaptLink ?? true;
  const end = region.address + region.data.length;
  let failuresHere = 0;
  /** Where the part of the region already on the chip (and verified) ends. */
  let done = region.address;
  let sent = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      while (done < end) {
        // Pieces end on sector boundaries: a piece's erase must not reach back into the one before it.
        const pieceEnd = adapt && tuner.stepped ? Math.min(end, sectorBelow(done + PIECE)) : end;
        const sentBefore = sent;
        const offset = done - region.address;
        await session.loader.writeRegion(done, region.data.subarray(offset, pieceEnd - region.address), {
          compress,
          blockSize: tuner.blockSize,
          line: adapt ? tuner : undefined,
          // The tuner ends a write early when smaller blocks would do better; short of that, a block that fails a
          // few times on a noisy line is worth sending again.
          blockTries: adapt ? 8 : undefined,
          onProgress: (progress) => {
            sent = sentBefore + progress.sent;
            options.onProgress?.(region, { written: offset + progress.written, total: region.data.length, sent });
          },
        });
        done = pieceEnd;
        failuresHere = 0;
        if (adapt && tuner.settle()) options.onLinkChange?.(tuner.describe());
      }
      return { ...base, compressedSize: sent, skipped: false, seconds: (performance.now() - started) / 1000, attempts: attempt };
    } catch (error) {
      const restart = chipRestart(session.loader.channel.takeNoise());
      if (restart) throw new FlashWriteError("chip-restarted", `the ${session.chip.kind.label} restarted while ${region.name} at ${hex(region.address)} was being written: it printed "${restart}".\n${restartAdvice(restart)}\nNothing was reported written for this region; run the same command again to finish (regions already on the chip are skipped).`, { cause: error });
      const lineFailure = error instanceof TimeoutError || error instanceof ProtocolError || error instanceof CommandFailedError;
      const retryable = lineFailure || error instanceof VerifyError;
      failuresHere++;
      if (retryable) await session.loader.channel.drain(20, 500);
      if (lineFailure && adapt && (await tuner.stepDown())) {
        failuresHere = 0;
        options.onLinkChange?.(tuner.describe());
        continue;
      }
      if (!retryable || failuresHere >= attempts) {
        throw new FlashWriteError("write-failed", `writing ${region.name} at ${hex(region.address)} failed after ${attempt} attempt(s)${tuner.stepped ? ` (down to ${tuner.describe()})` : ""}: ${(error as Error).message}\nNothing was reported written for this region; run the same command again to finish (regions already on the chip are skipped).`, { cause: error });
      }
    }
  }
}

/** The reset reason a ROM prints when it starts ("rst:0x10 (RTCWDT_RTC_RST)"), if the chip printed one. */
function chipRestart(noise: string): string | undefined {
  return /rst:0x[0-9a-f]+ \([A-Z0-9_]+\)/i.exec(noise)?.[0];
}

function restartAdvice(restart: string): string {
  if (/WDT/i.test(restart)) {
    return "A watchdog reset it. On the chip's own USB-Serial/JTAG port the ROM leaves its watchdogs running, and esplab turns them off when it recognises the port by its USB ids (esplab ports shows it as Espressif USB-Serial/JTAG); connect through that port's device name.";
  }
  if (/BROWN/i.test(restart)) return "Its supply dipped (brownout): use a shorter or better USB cable, a powered hub, or another port.";
  return "Check that nothing else resets the board (a loose EN/RST line, another program opening the port).";
}

/** The most of a region written as one compressed stream once the line has proved noisy. */
const PIECE = 0x10000;
const sectorBelow = (address: number) => address - (address % FLASH_SECTOR);

/** The region moved back to the start of its sector, the gap filled with erased bytes (what the erase leaves). */
function alignToSector(region: FlashRegion): FlashRegion {
  const over = region.address % FLASH_SECTOR;
  if (over === 0) return region;
  const data = new Uint8Array(over + region.data.length).fill(0xff, 0, over);
  data.set(region.data, over);
  return { ...region, address: region.address - over, data };
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
