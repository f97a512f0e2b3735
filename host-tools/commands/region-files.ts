import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { UsageError } from "../../firmware/core/errors.ts";
import type { FlashRegion } from "../flash/image/plan.ts";
import { parseAmount } from "../flash/operations/numbers.ts";

/** ADDR FILE pairs from the command line, as esptool takes them. */
export function addressFilePairs(positionals: string[], usage: string): { address: number; file: string }[] {
  if (positionals.length % 2 !== 0) throw new UsageError("usage", `expected ADDR FILE pairs, got ${positionals.length} argument(s)\n${usage}`);
  const pairs: { address: number; file: string }[] = [];
  for (let i = 0; i < positionals.length; i += 2) pairs.push({ address: parseAmount(positionals[i], "address"), file: positionals[i + 1]! });
  return pairs;
}

export async function readRegion(address: number, file: string): Promise<FlashRegion> {
  try {
    return { address, name: basename(file), data: new Uint8Array(await readFile(file)) };
  } catch (error) {
    throw new UsageError("unreadable-image", `cannot read ${file}: ${(error as Error).message}`);
  }
}
