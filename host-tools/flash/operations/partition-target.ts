import { UsageError } from "../../../firmware/core/errors.ts";
import { MAX_TABLE_LENGTH, PartitionTableError, parsePartitionTable, type PartitionEntry, type PartitionTable } from "../image/partition-table.ts";
import { hex } from "./numbers.ts";
import type { Session } from "./session.ts";

import { PARTITION_TABLE_OFFSET } from "../image/plan.ts";

export { PARTITION_TABLE_OFFSET };

/** Reads and parses the table on the chip; throws PartitionTableError when what is there is not one. */
export async function readPartitionTable(session: Session): Promise<PartitionTable> {
  const bytes = await session.loader.readFlash(PARTITION_TABLE_OFFSET, MAX_TABLE_LENGTH);
  if (bytes.every((b) => b === 0xff)) throw new PartitionTableError("no-partition-table", `the flash at ${hex(PARTITION_TABLE_OFFSET)} is erased: the board has no partition table`);
  return parsePartitionTable(bytes, { requireEndMarker: false });
}

/** The table on the chip, or undefined when there is none (so a plan can still be checked without one). */
export async function partitionsOnChip(session: Session): Promise<PartitionTable | undefined> {
  try {
    return await readPartitionTable(session);
  } catch (error) {
    if (error instanceof PartitionTableError) return undefined;
    throw error;
  }
}

/** The partition called `name` in the chip's table (--partition NAME), or an error listing the names it has. */
export async function partitionOnChip(session: Session, name: string): Promise<PartitionEntry> {
  let table: PartitionTable;
  try {
    table = await readPartitionTable(session);
  } catch (error) {
    if (!(error instanceof PartitionTableError)) throw error;
    throw new UsageError("no-partition-table", `--partition ${name}: cannot read the board's partition table at ${hex(PARTITION_TABLE_OFFSET)}: ${error.message}. Flash the table first (esplab flash 0x8000 partitions.bin), or give an address instead of --partition`, { cause: error });
  }
  const entry = table.entries.find((e) => e.name === name);
  if (!entry) throw new UsageError("no-such-partition", `--partition ${name}: the board's partition table has no partition "${name}"; it has ${table.entries.map((e) => `${e.name} (${e.typeName}/${e.subtypeName} at ${hex(e.offset)})`).join(", ")}`);
  return entry;
}

export const describePartition = (entry: PartitionEntry) => `partition "${entry.name}" (${hex(entry.size)} bytes at ${hex(entry.offset)})`;
