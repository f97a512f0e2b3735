import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { MAX_TABLE_LENGTH, describePartitionTable } from "../flash/image/partition-table.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, withSession, type ConnectionValues } from "../flash/operations/connection-options.ts";
import { PARTITION_TABLE_OFFSET } from "../flash/operations/partition-target.ts";
import { parseAmount } from "../flash/operations/numbers.ts";

const USAGE = `usage: esplab partition-table FILE [--json] [--allow-trimmed]
       esplab partition-table --port PORT [--offset 0x8000] [--json]
Prints a binary ESP-IDF partition table as CSV (gen_esp32part.py style), from a file or read from a board.
--allow-trimmed accepts a file that stops after its last entry without the 0xff end marker.

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CONNECTION_FLAGS, "allow-trimmed": { type: "boolean" }, offset: { type: "string" } },
  });
  if (values.help) return (console.log(USAGE), 0);
  const fromChip = values.port !== undefined;
  if (fromChip === (positionals.length === 1) || positionals.length > 1) throw new UsageError("usage", `give either one partition table FILE or --port\n${USAGE}`);
  const bytes = fromChip ? await readFromChip(values) : new Uint8Array(await readFile(positionals[0]!));
  process.stdout.write(describePartitionTable(bytes, { json: values.json ?? false, requireEndMarker: !values["allow-trimmed"] && !fromChip }));
  return 0;
}

async function readFromChip(values: ConnectionValues & { offset?: string }): Promise<Uint8Array> {
  const offset = values.offset === undefined ? PARTITION_TABLE_OFFSET : parseAmount(values.offset, "--offset");
  const log = values.json ? () => {} : (message: string) => console.error(message);
  return withSession(values, log, { defaultBaud: 115200, defaultAfter: "no-reset" }, (session) => session.loader.readFlash(offset, MAX_TABLE_LENGTH));
}
