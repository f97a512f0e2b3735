import { createHash } from "node:crypto";
import { ProtocolError, TimeoutError } from "../../../firmware/core/errors.ts";
import { FLASH_SECTOR, type FlashRegion } from "../image/plan.ts";
import { CommandFailedError, type EspLoader } from "../loader/esp-loader.ts";

/** A range of flash addresses, [start, end). */
export interface Span { start: number; end: number }

export interface RegionDiff {
  /** The chip already holds the whole region, proven by one MD5 over all of it. */
  unchanged: boolean;
  /** What to write, in address order: whole sectors, except where the region itself starts or ends inside one. */
  changed: Span[];
  /** Erase sectors the region touches, and how many of them are to be written. */
  sectors: number;
  changedSectors: number;
  /** MD5 commands sent to find out. */
  queries: number;
}

/**
 * The sizes the chip is asked about, coarsest first: each 64 KB block's MD5, then each 4 KB sector's in the blocks
 * that differ. Measured on the simulator (bench/flash.ts): fewer round trips than asking every sector, and fewer
 * bytes erased and sent than writing whole blocks.
 */
export const DIFF_LEVELS: readonly number[] = [0x10000, FLASH_SECTOR];

/**
 * Finds which sectors of a region differ between the chip and the image by asking the chip for MD5s. A region is
 * called unchanged only when one MD5 over all of it matches. Anything the chip's answers leave unsure is changed:
 * an MD5 that failed, or that needed a resend (a late answer to the first try could be taken for the answer to the
 * next question), and a block whose parts all match though the block did not. A region whose first block the chip
 * holds erased, a block it holds erased, and every block after two whose sectors all differed, are written whole
 * without asking further: a first flash, or one over another app, would otherwise pay for questions for nothing.
 */
export async function diffRegion(loader: EspLoader, region: FlashRegion, levels: readonly number[] = DIFF_LEVELS): Promise<RegionDiff> {
  const whole = { start: region.address, end: region.address + region.data.length };
  const sectors = split(whole, FLASH_SECTOR).length;
  let queries = 0;
  let denseBlocks = 0;
  const ask = (span: Span): Promise<Answer> => {
    queries++;
    return askChip(loader, region, span);
  };
  const result = (changed: Span[]): RegionDiff => {
    const merged = merge(changed);
    return { unchanged: merged.length === 0, changed: merged, sectors, changedSectors: merged.reduce((sum, span) => sum + split(span, FLASH_SECTOR).length, 0), queries };
  };

  /** The changed parts of a span the chip does not hold, looked for at `levels[level]` and finer. */
  const narrow = async (span: Span, answer: Answer, level: number): Promise<Span[]> => {
    if (level >= levels.length || answer === "erased" || denseBlocks >= DENSE) return [span];
    const parts = split(span, levels[level]!);
    if (parts.length === 1) return narrow(span, answer, level + 1);
    const changed: Span[] = [];
    for (const part of parts) {
      const partAnswer = await ask(part);
      if (partAnswer !== "same") changed.push(...(await narrow(part, partAnswer, level + 1)));
    }
    if (level === 1 && changed.length === parts.length) denseBlocks++;
    return changed.length > 0 ? changed : [span];
  };

  const top = split(whole, levels[0] ?? region.data.length);
  // The first block differs in most new builds (the app's header and description): then a hash over the whole
  // region is not worth the chip's time; when it matches, the whole region is asked about first.
  const first = await ask(top[0]!);
  if (first === "same" && (top.length === 1 || (await ask(whole)) === "same")) return result([]);
  // A region that starts erased is being flashed for the first time (a new chip, or after erase-flash).
  if (first === "erased") return result([whole]);
  if (top.length === 1) return result(await narrow(whole, first, 1));
  const changed: Span[] = [];
  if (first !== "same") changed.push(...(await narrow(top[0]!, first, 1)));
  for (const block of top.slice(1)) {
    const answer = await ask(block);
    if (answer !== "same") changed.push(...(await narrow(block, answer, 1)));
  }
  return result(changed.length > 0 ? changed : [whole]);
}

/** Blocks with every sector changed after which a region's other blocks are written whole. */
const DENSE = 2;

/** What the chip holds in a span: the image's bytes, erased bytes, or something else (or the answer was unsure). */
type Answer = "same" | "erased" | "differs";

async function askChip(loader: EspLoader, region: FlashRegion, span: Span): Promise<Answer> {
  const bytes = region.data.subarray(span.start - region.address, span.end - region.address);
  let resent = false;
  try {
    const md5 = await loader.md5(span.start, span.end - span.start, { onRetry: () => (resent = true) });
    if (!resent) {
      if (md5 === createHash("md5").update(bytes).digest("hex")) return "same";
      return md5 === erasedMd5(bytes.length) ? "erased" : "differs";
    }
  } catch (error) {
    if (!(error instanceof TimeoutError || error instanceof ProtocolError || error instanceof CommandFailedError)) throw error;
  }
  // Let a second answer to a resent question arrive and go, so it is not read as the answer to the next one.
  await loader.channel.drain(20, 500);
  return "differs";
}

const erasedMd5 = (length: number) => createHash("md5").update(new Uint8Array(length).fill(0xff)).digest("hex");

/** `span` cut at every multiple of `size`. */
export function split(span: Span, size: number): Span[] {
  const parts: Span[] = [];
  for (let start = span.start; start < span.end; ) {
    const end = Math.min(span.end, start - (start % size) + size);
    parts.push({ start, end });
    start = end;
  }
  return parts;
}

function merge(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const last = out.at(-1);
    if (last && last.end >= span.start) last.end = Math.max(last.end, span.end);
    else out.push({ ...span });
  }
  return out;
}
