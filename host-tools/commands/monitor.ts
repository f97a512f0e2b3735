import { parseArgs } from "node:util";
import { openLink } from "../flash/link/open-link.ts";
import { runMonitor } from "../flash/monitor/monitor.ts";
import { parseAmount } from "../flash/operations/numbers.ts";

const USAGE = `usage: esplab monitor --port PORT [--baud 115200] [--reset] [--timestamps] [--raw]
Shows the board's serial output: boot lines explained, Moddable trace() and exceptions shown readably (xsbug
messages are rendered, not printed as XML), invalid bytes as \\xNN. Keys you type go to the board.
Ctrl-R resets the board (through RTS), Ctrl-] quits.

  -p, --port PORT   serial device or socket://HOST:PORT; default $ESPLAB_PORT
  -b, --baud RATE   default 115200 (what ESP-IDF and Moddable print at)
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
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return (console.log(USAGE), 0);
  const baud = values.baud === undefined ? 115200 : parseAmount(values.baud, "--baud");
  const link = await openLink(values.port ?? process.env.ESPLAB_PORT, baud);
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.resume();
  try {
    return await runMonitor({ link, input: stdin, output: process.stdout, resetOnOpen: values.reset, timestamps: values.timestamps, raw: values.raw });
  } finally {
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    await link.close();
  }
}
