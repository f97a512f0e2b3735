import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, withSession } from "../flash/operations/connection-options.ts";
import { hex, parseAmount } from "../flash/operations/numbers.ts";
import { describePartition, partitionOnChip } from "../flash/operations/partition-target.ts";

const USAGE = `usage: esplab erase-region ADDR SIZE [options]
       esplab erase-region --partition NAME [options]
Erases SIZE bytes from ADDR (both multiples of 4 KB, e.g. 0x9000 0x6000 erases the NVS partition), or the whole
partition NAME of the table on the board (read from 0x8000), e.g. --partition nvs.

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CONNECTION_FLAGS, partition: { type: "string" } } });
  if (values.help) return (console.log(USAGE), 0);
  const partition = values.partition;
  if (partition !== undefined ? positionals.length !== 0 : positionals.length !== 2) throw new UsageError("usage", `expected ADDR SIZE or --partition NAME\n${USAGE}`);
  let address = partition === undefined ? parseAmount(positionals[0], "address") : 0;
  let size = partition === undefined ? parseAmount(positionals[1], "size") : 0;
  if (partition === undefined) checkAligned(address, size, "");
  const log = values.json ? () => {} : (message: string) => console.error(message);
  await withSession(values, log, { defaultBaud: 115200, defaultAfter: "no-reset" }, async (session) => {
    if (partition !== undefined) {
      const entry = await partitionOnChip(session, partition);
      ({ offset: address, size } = entry);
      checkAligned(address, size, ` (${describePartition(entry)})`);
    }
    if (address + size > session.flashSize) throw new UsageError("past-end", `${hex(address)}+${hex(size)} goes past the end of the flash (${hex(session.flashSize)})`);
    await session.loader.eraseRegion(address, size);
  });
  if (values.json) console.log(JSON.stringify({ address: hex(address), size }));
  else log(`Erased ${hex(size)} bytes at ${hex(address)}`);
  return 0;
}

function checkAligned(address: number, size: number, what: string): void {
  if (address % 0x1000 !== 0 || size % 0x1000 !== 0) throw new UsageError("unaligned-erase", `erase-region needs a 4 KB-aligned address and size (multiples of 0x1000); got ${hex(address)} and ${hex(size)}${what}`);
}
