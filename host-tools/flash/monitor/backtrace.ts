import type { Location } from "./elf/symbolizer.ts";

/**
 * ESP-IDF's panic handler prints the call stack as one line of PC:SP pairs, `Backtrace: 0x400d1234:0x3ffb1230 …`,
 * ending ` |<-CORRUPTED` when the stack walk broke off or ` |<-CONTINUES` when it stopped at the depth limit
 * (ESP-IDF debug_helpers.c, esp_backtrace_print_from_frame; its test harness matches
 * `Backtrace:( 0x[0-9a-fA-F]{8}:0x[0-9a-fA-F]{8})+`). Each PC went through esp_cpu_process_stack_pc, which takes
 * the call instruction's length off, so it points into the calling line and is looked up as printed, as idf.py
 * monitor does with addr2line. Reads any text in one pass (a sticky regex per pair, no backtracking); never throws.
 */
export interface BacktraceFrame { pc: number; sp: number }
export interface Backtrace { frames: BacktraceFrame[]; corrupted: boolean; continues: boolean }

const MARKER = "Backtrace:";
const PAIR = /0x([0-9a-fA-F]{1,8}):0x([0-9a-fA-F]{1,8})/y;

export function parseBacktrace(line: string): Backtrace | undefined {
  const start = line.indexOf(MARKER);
  if (start < 0) return undefined;
  const frames: BacktraceFrame[] = [];
  let at = start + MARKER.length;
  for (;;) {
    while (line[at] === " ") at++;
    PAIR.lastIndex = at;
    const match = PAIR.exec(line);
    if (!match) break;
    frames.push({ pc: Number.parseInt(match[1]!, 16), sp: Number.parseInt(match[2]!, 16) });
    at = PAIR.lastIndex;
  }
  if (frames.length === 0) return undefined;
  const rest = line.slice(at).trimStart();
  return { frames, corrupted: rest.startsWith("|<-CORRUPTED"), continues: rest.startsWith("|<-CONTINUES") };
}

/** One line per frame, as idf.py monitor prints them: `0x400d1234: app_main at /path/main.c:12`. */
export function formatFrame(location: Location): string {
  const address = `0x${location.address.toString(16).padStart(8, "0")}`;
  if (!location.function && !location.file) return `${address}: ?? (not in the ELF: ROM code, or another build's address)`;
  return `${address}: ${location.function ?? "??"}${location.file ? ` at ${location.file}:${location.line}` : ""}`;
}
