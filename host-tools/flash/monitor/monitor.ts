import type { ByteLink } from "../link/link.ts";
import { hardReset } from "../link/reset.ts";
import { formatFrame, parseBacktrace } from "./backtrace.ts";
import { ConsoleDecoder, type ConsoleLine } from "./console-decoder.ts";
import type { Location } from "./elf/symbolizer.ts";

export const CTRL_R = 0x12;
export const CTRL_RIGHT_BRACKET = 0x1d;

export interface MonitorOptions {
  link: ByteLink;
  /** Keys typed by the user (a raw-mode stdin in the CLI). */
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Restart the board into its app when the monitor opens. */
  resetOnOpen?: boolean;
  timestamps?: boolean;
  /** Pass the bytes through untouched (no line decoding, no xsbug rendering, no notes). */
  raw?: boolean;
  now?: () => Date;
  /** How long a partial line (a prompt) waits before it is shown. */
  partialLineMs?: number;
  /** Looks up panic backtrace addresses in the app's ELF (--elf); each frame is printed under the Backtrace line. */
  symbolize?: (address: number) => Location;
}

/**
 * A serial console: the board's output decoded into lines, keys sent to the board, Ctrl-R resets the board, Ctrl-]
 * quits. Resolves with 0 when the user quits, 1 when the port goes away.
 */
export function runMonitor(options: MonitorOptions): Promise<number> {
  const { link, input, output } = options;
  const now = options.now ?? (() => new Date());
  const decoder = new ConsoleDecoder();
  const say = (text: string) => output.write(`${stamp()}\x1b[2m[esplab] ${text}\x1b[0m\n`);
  const stamp = () => (options.timestamps ? `${now().toISOString().slice(11, 23)} ` : "");
  const print = (lines: ConsoleLine[]) => {
    for (const line of lines) {
      if (line.kind === "note") output.write(`${stamp()}\x1b[2m${line.text}\x1b[0m\n`);
      else if (line.kind === "exception") output.write(`${stamp()}\x1b[31m${line.text}${line.path ? ` (${line.path}${line.line ? `:${line.line}` : ""})` : ""}\x1b[0m\n`);
      else {
        output.write(`${stamp()}${line.text}\n`);
        if (options.symbolize) decodeBacktrace(line.text);
      }
    }
  };
  const decodeBacktrace = (text: string) => {
    const backtrace = parseBacktrace(text);
    if (!backtrace) return;
    for (const frame of backtrace.frames) output.write(`${stamp()}\x1b[33m  ${formatFrame(options.symbolize!(frame.pc))}\x1b[0m\n`);
    if (backtrace.corrupted) output.write(`${stamp()}\x1b[2m  (the stack was corrupted beyond this frame)\x1b[0m\n`);
    if (backtrace.continues) output.write(`${stamp()}\x1b[2m  (the backtrace goes on: ESP-IDF stopped at the depth it prints)\x1b[0m\n`);
  };

  return new Promise<number>((resolve) => {
    let partialTimer: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      clearTimeout(partialTimer);
      stopData();
      stopClose();
      input.off("data", onKey);
      resolve(code);
    };
    const stopData = link.onData((bytes) => {
      if (options.raw) return void output.write(bytes);
      print(decoder.push(bytes));
      clearTimeout(partialTimer);
      partialTimer = setTimeout(() => print(decoder.flush()), options.partialLineMs ?? 150);
    });
    const stopClose = link.onClose((error) => {
      print(decoder.flush());
      say(`${link.name} closed${error ? `: ${error.message}` : ""}`);
      finish(1);
    });
    const reset = async () => {
      if (await hardReset(link)) say("reset the board (EN pulsed through RTS)");
      else say(`${link.name} has no reset lines: press the board's EN button`);
    };
    const onKey = (chunk: Buffer | string) => {
      const keys = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      let start = 0;
      for (let i = 0; i < keys.length; i++) {
        if (keys[i] === CTRL_RIGHT_BRACKET) {
          if (i > start) void link.write(keys.subarray(start, i));
          say("bye");
          return finish(0);
        }
        if (keys[i] === CTRL_R) {
          if (i > start) void link.write(keys.subarray(start, i));
          start = i + 1;
          void reset();
        }
      }
      if (start < keys.length) link.write(keys.subarray(start)).catch(() => {});
    };
    input.on("data", onKey);
    say(`${link.name} at ${link.baud} baud — Ctrl-R resets the board, Ctrl-] quits`);
    if (options.resetOnOpen) void reset();
  });
}
