import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { describePartitionTable } from "../flash/image/partition-table.ts";

const USAGE = `usage: esplab partition-table FILE [--json] [--allow-trimmed]
Prints a binary ESP-IDF partition table as CSV (gen_esp32part.py style).
--allow-trimmed accepts a file that stops after its last entry without the 0xff end marker.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" }, "allow-trimmed": { type: "boolean" }, help: { type: "boolean" } } });
  if (values.help) { console.log(USAGE); return 0; }
  if (positionals.length !== 1) throw new UsageError("usage", `expected one partition table file\n${USAGE}`);
  const bytes = new Uint8Array(await readFile(positionals[0]!));
  process.stdout.write(describePartitionTable(bytes, { json: values.json ?? false, requireEndMarker: !values["allow-trimmed"] }));
  return 0;
}
