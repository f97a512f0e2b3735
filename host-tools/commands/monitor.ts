import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { openLink } from "../flash/link/open-link.ts";
import { EM_XTENSA } from "../flash/monitor/elf/elf-file.ts";
import { Symbolizer } from "../flash/monitor/elf/symbolizer.ts";
import { runMonitor } from "../flash/monitor/monitor.ts";
import { parseAmount } from "../flash/operations/numbers.ts";

const USAGE = `usage: esplab monitor --port PORT [--baud 115200] [--elf APP.elf] [--reset] [--timestamps] [--raw]
Shows the board's serial output: boot lines explained, Moddable trace() and exceptions shown readably (xsbug
messages are rendered, not printed as XML), invalid bytes as \\xNN. Keys you type go to the board.
Ctrl-R resets the board (through RTS), Ctrl-] quits.

  -p, --port PORT   serial device or socket://HOST:PORT; default $ESPLAB_PORT
  -b, --baud RATE   default 115200 (what ESP-IDF and Moddable print at)
  --elf FILE        decode ESP-IDF panic backtraces (Backtrace: 0x400d1234:0x3ffb1230 …) into function and
                    file:line with this ELF's symbols and DWARF line info (the .elf beside the flashed .bin)
  --reset           restart the board when the monitor opens, to see it boot
  --timestamps      prefix each line with the time it arrived
  --raw             pass bytes through untouched`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", short: "p" },
      baud: { type: "string", short: "b" },
      reset: { type: "boolean" },
      timestamps: { type: "boolean" },
      raw: { type: "boolean" },
      elf: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return (console.log(USAGE), 0);
  const baud = values.baud === undefined ? 115200 : parseAmount(values.baud, "--baud");
  const symbolizer = values.elf === undefined ? undefined : await loadElf(values.elf);
  const link = await openLink(values.port ?? process.env.ESPLAB_PORT, baud);
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.resume();
  try {
    return await runMonitor({ link, input: stdin, output: process.stdout, resetOnOpen: values.reset, timestamps: values.timestamps, raw: values.raw, symbolize: symbolizer && ((address) => symbolizer.lookup(address)) });
  } finally {
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    await link.close();
  }
}

/** Reads the ELF before the port opens, so a wrong file is said at once; a stripped one is a warning. */
async function loadElf(file: string): Promise<Symbolizer> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new UsageError("unreadable-elf", `cannot read --elf ${file}: ${(error as Error).message}`);
  }
  const symbolizer = new Symbolizer(bytes);
  if (symbolizer.functions.length === 0) console.error(`Warning: ${file} has no function symbols (stripped?): backtraces will show addresses only`);
  else if (!symbolizer.hasLines) console.error(`Warning: ${file} has no DWARF line info (built without -g?): backtraces will show functions without file:line`);
  if (symbolizer.machine !== EM_XTENSA) console.error(`Warning: ${file} is not an Xtensa ELF (machine ${symbolizer.machine}): it is not the ESP32 app's`);
  return symbolizer;
}
