/**
 * Turns a board's serial output into readable lines: UTF-8 text with invalid bytes shown as \xNN, and Moddable's
 * xsbug messages (`\r\n<?xs.MACHINE?>\r\n<xsbug>…</xsbug>`) rendered instead of printed as XML — trace() output as
 * plain lines, exceptions with their file and line, a reset as one note. Incremental and bounded: any byte stream
 * is accepted, nothing is buffered past `maxLine` bytes.
 */
export type ConsoleLine =
  | { kind: "text"; text: string }
  | { kind: "log"; text: string }
  | { kind: "exception"; text: string; path?: string; line?: number }
  | { kind: "note"; text: string };

const PREAMBLE = /^<\?xs[.#]([0-9a-fA-F]{8})\?>$/;
const FRAME_END = "</xsbug>";

export class ConsoleDecoder {
  readonly #maxLine: number;
  #line: number[] = [];
  /** Text of an xsbug message being collected (after its preamble), or undefined outside one. */
  #frame: string | undefined;
  #blankPending = false;

  constructor(maxLine = 16 * 1024) {
    this.#maxLine = maxLine;
  }

  push(bytes: Uint8Array): ConsoleLine[] {
    const out: ConsoleLine[] = [];
    for (const byte of bytes) {
      if (byte === 0x0a) {
        this.#endLine(out);
      } else if (byte !== 0x0d) {
        this.#line.push(byte);
        if (this.#line.length >= this.#maxLine) this.#endLine(out);
      }
    }
    return out;
  }

  /** A partial line left waiting (a prompt without newline): emit it now. Nothing inside an xsbug message. */
  flush(): ConsoleLine[] {
    if (this.#frame !== undefined || this.#line.length === 0) return [];
    const out: ConsoleLine[] = [];
    this.#endLine(out);
    return out;
  }

  #endLine(out: ConsoleLine[]): void {
    const text = decodeUtf8(this.#line);
    this.#line = [];
    if (this.#frame !== undefined) {
      this.#frame += text;
      if (text.includes(FRAME_END) || this.#frame.length > this.#maxLine) {
        out.push(...renderFrame(this.#frame));
        this.#frame = undefined;
      } else if (text === "") {
        // blank lines between preamble and message are part of the framing
      } else {
        this.#frame += "\n";
      }
      return;
    }
    // Every xsbug message starts with CR LF: hold a blank line back until we know it is not that.
    if (text === "") {
      if (this.#blankPending) out.push({ kind: "text", text: "" });
      this.#blankPending = true;
      return;
    }
    const preamble = PREAMBLE.exec(text.trim());
    const blank = this.#blankPending;
    this.#blankPending = false;
    if (blank && !preamble) out.push({ kind: "text", text: "" });
    if (preamble) {
      if (/^0{8}$/.test(preamble[1]!)) out.push({ kind: "note", text: "XS: the device restarted its JavaScript machine" });
      this.#frame = "";
      return;
    }
    // trace() from a release build, or a boot line: print it, and say what boot lines mean.
    out.push({ kind: "text", text });
    const note = explainBootLine(text);
    if (note) out.push({ kind: "note", text: note });
  }
}

function renderFrame(frame: string): ConsoleLine[] {
  const lines: ConsoleLine[] = [];
  for (const match of frame.matchAll(/<log>([\s\S]*?)<\/log>/g)) {
    for (const text of unescapeXml(match[1]!).replace(/\n$/, "").split("\n")) lines.push({ kind: "log", text });
  }
  for (const match of frame.matchAll(/<break\b([^>]*)>([\s\S]*?)<\/break>/g)) {
    const path = /path="([^"]*)"/.exec(match[1]!)?.[1];
    const line = /line="(\d+)"/.exec(match[1]!)?.[1];
    lines.push({ kind: "exception", text: unescapeXml(match[2]!).trim(), path: path && unescapeXml(path), line: line ? Number(line) : undefined });
  }
  const login = /<login\b[^>]*name="([^"]*)"/.exec(frame);
  if (login) lines.push({ kind: "note", text: `XS: machine "${unescapeXml(login[1]!)}" is running (a debug build waits for xsbug)` });
  return lines;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (whole, name: string, dec?: string, hex?: string) => {
    if (dec) return safeChar(Number(dec), whole);
    if (hex) return safeChar(parseInt(hex, 16), whole);
    return ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" } as Record<string, string>)[name] ?? whole;
  });
}

function safeChar(code: number, fallback: string): string {
  return code >= 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : fallback;
}

/**
 * Reset reasons as the ROMs print them: the ESP32's names end in _RESET ("RTCWDT_RTC_RESET"), the later chips'
 * in _RST or nothing ("RTCWDT_RTC_RST", "POWERON"); matched on the name without that ending.
 */
const RESET_REASONS: Array<[RegExp, string]> = [
  [/^POWERON$/, "power-on reset"],
  [/^(RTC_)?SW(_SYS)?$/, "software reset"],
  [/^(RTC_)?SW_CPU$/, "software restart (esp_restart, or a crash just before)"],
  [/^D(EEP)?SLEEP$/, "woke from deep sleep"],
  [/^TG[01]WDT_(SYS|CPU)$/, "watchdog reset: a task ran too long without yielding"],
  [/^TGWDT_CPU$/, "watchdog reset of a CPU"],
  [/^RTCWDT_(SYS|CPU)$/, "RTC watchdog reset"],
  [/^RTCWDT_RTC$/, "RTC watchdog reset (often right after flashing)"],
  [/BROWN_?OUT|POWER_GLITCH/, "brown-out: the supply voltage dropped (weak USB port or cable, or the servo drawing too much)"],
  [/^SUPER_WDT$/, "super watchdog reset"],
  [/^USB_(UART|JTAG)_CHIP$/, "reset through the chip's USB port (a flasher or the monitor opening it)"],
];

function resetReason(name: string): string {
  const base = name.toUpperCase().replace(/_(RESET|RST)$/, "");
  return RESET_REASONS.find(([pattern]) => pattern.test(base))?.[1] ?? `reset reason ${name}`;
}

/** One short explanation for the boot lines (ESP32 and later chips) and crash banners, or undefined. */
export function explainBootLine(line: string): string | undefined {
  const notes: string[] = [];
  const reset = /rst:0x[0-9a-f]+ \((\w+)\)/i.exec(line);
  if (reset) notes.push(resetReason(reset[1]!));
  const boot = /boot:0x([0-9a-f]+) \(([^)]*\)?)/i.exec(line);
  if (boot) {
    if (/DOWNLOAD/i.test(boot[2]!)) notes.push("in download mode, waiting for a flasher: release BOOT and press EN to run the app");
    else if (/SPI_FAST_FLASH_BOOT|FLASH/i.test(boot[2]!)) notes.push("booting the app from flash");
  }
  if (/Guru Meditation Error/.test(line)) notes.push("the app crashed (CPU exception); the lines below show where");
  if (/Brownout detector was triggered/i.test(line)) notes.push("brown-out: the supply voltage dropped (weak USB port or cable, or the servo drawing too much)");
  if (/invalid header: 0x[0-9a-f]+/i.test(line)) notes.push("no valid app in flash at this address: flash the bootloader, partition table and app");
  return notes.length > 0 ? `esplab: ${notes.join("; ")}` : undefined;
}

/** UTF-8 decoding that shows each byte of an invalid sequence as \xNN instead of dropping it. */
export function decodeUtf8(bytes: number[]): string {
  let out = "";
  for (let i = 0; i < bytes.length; ) {
    const b0 = bytes[i]!;
    const length = b0 < 0x80 ? 1 : b0 >= 0xc2 && b0 <= 0xdf ? 2 : b0 >= 0xe0 && b0 <= 0xef ? 3 : b0 >= 0xf0 && b0 <= 0xf4 ? 4 : 0;
    if (length === 1) {
      out += b0 < 0x20 && b0 !== 0x09 ? `\\x${hex(b0)}` : String.fromCharCode(b0);
      i++;
      continue;
    }
    let code = length === 2 ? b0 & 0x1f : length === 3 ? b0 & 0x0f : b0 & 0x07;
    let valid = length > 0 && i + length <= bytes.length;
    for (let k = 1; valid && k < length; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) valid = false;
      else code = (code << 6) | (next & 0x3f);
    }
    const minimum = length === 3 ? 0x800 : length === 4 ? 0x10000 : 0;
    if (valid && code >= minimum && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)) {
      out += String.fromCodePoint(code);
      i += length;
    } else {
      out += `\\x${hex(b0)}`;
      i++;
    }
  }
  return out;
}

const hex = (byte: number) => byte.toString(16).padStart(2, "0");
