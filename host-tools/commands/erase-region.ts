import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, withSession } from "../flash/operations/connection-options.ts";
import { hex, parseAmount } from "../flash/operations/numbers.ts";

const USAGE = `usage: esplab erase-region ADDR SIZE [options]
Erases SIZE bytes from ADDR (both multiples of 4 KB, e.g. 0x9000 0x6000 erases the NVS partition).

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: CONNECTION_FLAGS });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 2) throw new UsageError("usage", `expected ADDR SIZE\n${USAGE}`);
  const address = parseAmount(positionals[0], "address");
  const size = parseAmount(positionals[1], "size");
  if (address % 0x1000 !== 0 || size % 0x1000 !== 0) throw new UsageError("unaligned-erase", `erase-region needs a 4 KB-aligned address and size (multiples of 0x1000); got ${hex(address)} and ${hex(size)}`);
  const log = values.json ? () => {} : (message: string) => console.error(message);
  await withSession(values, log, { defaultBaud: 115200, defaultAfter: "no-reset" }, async (session) => {
    if (address + size > session.flashSize) throw new UsageError("past-end", `${hex(address)}+${hex(size)} goes past the end of the flash (${hex(session.flashSize)})`);
    await session.loader.eraseRegion(address, size);
  });
  if (values.json) console.log(JSON.stringify({ address: hex(address), size }));
  else log(`Erased ${hex(size)} bytes at ${hex(address)}`);
  return 0;
}
