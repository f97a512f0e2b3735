import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, withSession } from "../flash/operations/connection-options.ts";
import { hex, parseAmount } from "../flash/operations/numbers.ts";
import { ProgressLine, formatBytes } from "../flash/operations/progress.ts";

const USAGE = `usage: esplab read-flash ADDR SIZE FILE [options]
Reads SIZE bytes of flash from ADDR into FILE (SIZE may be "all"); the data is checked against the chip's MD5.

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: CONNECTION_FLAGS });
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 3) throw new UsageError("usage", `expected ADDR SIZE FILE\n${USAGE}`);
  const address = parseAmount(positionals[0], "address");
  const log = values.json ? () => {} : (message: string) => console.error(message);
  const data = await withSession(values, log, { defaultAfter: "no-reset" }, async (session) => {
    const size = positionals[1] === "all" ? session.flashSize - address : parseAmount(positionals[1], "size");
    if (address + size > session.flashSize) throw new UsageError("past-end", `${hex(address)}+${size} goes past the end of the ${formatBytes(session.flashSize)} flash`);
    const progress = new ProgressLine(process.stderr);
    progress.start(`read ${hex(address)}`);
    const started = performance.now();
    const bytes = await session.loader.readFlash(address, size, (done, total) => progress.update(done, total));
    if (!values.json) progress.finish(`${formatBytes(size)} in ${((performance.now() - started) / 1000).toFixed(2)} s, MD5 verified`);
    return bytes;
  });
  await writeFile(positionals[2]!, data);
  if (values.json) console.log(JSON.stringify({ address: hex(address), size: data.length, file: positionals[2] }));
  return 0;
}
