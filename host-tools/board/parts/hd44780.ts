import type { Diagnostics } from "../diagnostics.ts";

/**
 * The HD44780 LCD controller, fed nibble by nibble as the PCF8574 backpack latches them. Models what drivers get
 * wrong on real hardware: power-up in 8-bit mode and the 3-3-3-2 dance into 4-bit mode, busy periods (an instruction
 * that arrives while busy is lost), the 2-line DDRAM map with hidden columns 16–39 and the 0x27→0x40 jump, display
 * shift, CGRAM glyphs, cursor and blink. Timing per the Hitachi datasheet (fosc 270 kHz): 37 µs per instruction,
 * 1.52 ms for clear and home, 4.1 ms and 100 µs after the first two function sets of the reset sequence, and no
 * instruction taken before 15 ms after power-on.
 */

const POWER_ON_MS = 15;
const BUSY_MS = 0.037;
const BUSY_LONG_MS = 1.52;
const LINE_LENGTH = 0x28;

export interface CursorState {
  address: number;
  visible: boolean;
  blink: boolean;
  /** Column and row on screen when the cursor is in the visible window. */
  column: number | undefined;
  row: number | undefined;
  onScreen: boolean;
}

export class HD44780 {
  readonly ddram = new Uint8Array(0x80).fill(0x20);
  readonly cgram = new Uint8Array(64);
  readonly #diagnostics: Diagnostics;
  readonly #part: string;
  readonly #poweredAt: number;
  #eightBit = true;
  #pendingHigh: number | undefined;
  #busyUntil = 0;
  #busyBecause = "";
  #address = 0;
  #cgramSelected = false;
  #increment = true;
  #shiftOnWrite = false;
  #displayOn = false;
  #cursorOn = false;
  #blinkOn = false;
  #twoLines = false;
  #bigFont = false;
  #functionSets = 0;
  #shift = 0;
  #lost = 0;
  #instructions = 0;
  readonly #listeners = new Set<() => void>();

  constructor(part: string, diagnostics: Diagnostics, poweredAt: number) {
    this.#part = part;
    this.#diagnostics = diagnostics;
    this.#poweredAt = poweredAt;
  }

  /** One latch on the falling edge of E: RS, RW and the four data lines D4–D7. */
  latch(rs: 0 | 1, rw: 0 | 1, nibble: number, atMs: number): void {
    if (rw === 1) return; // a read cycle: nothing is written (reads of the busy flag are not modelled)
    if (atMs - this.#poweredAt < POWER_ON_MS) {
      this.#lose(`${rs ? "data" : "instruction"} nibble 0x${nibble.toString(16)} arrived ${(atMs - this.#poweredAt).toFixed(2)} ms after power-on, before the controller is ready (15 ms) — wait at least 15 ms (drivers use 50 ms) before the first nibble`);
      return;
    }
    if (this.#eightBit) {
      // D0–D3 are not wired on the backpack: an 8-bit instruction arrives with its low nibble 0.
      this.#execute(rs, nibble << 4, atMs);
      return;
    }
    if (this.#pendingHigh === undefined) {
      // While busy the controller ignores the bus, half instructions included: the next nibble then pairs wrongly.
      if (atMs < this.#busyUntil) {
        this.#lose(`${this.#busyMessage(`the high nibble 0x${nibble.toString(16)} of the next ${rs ? "data byte" : "instruction"}`, atMs)} (the nibbles after it pair up wrongly)`);
        return;
      }
      this.#pendingHigh = nibble;
      return;
    }
    const value = (this.#pendingHigh << 4) | nibble;
    this.#pendingHigh = undefined;
    this.#execute(rs, value, atMs);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The two visible lines (16 characters each) as text; blank when the display is off. */
  visibleCodes(columns = 16): number[] {
    const codes: number[] = [];
    for (let row = 0; row < 2; row++) {
      for (let column = 0; column < columns; column++) {
        codes.push(this.#displayOn ? this.ddram[this.#visibleAddress(row, column)]! : 0x20);
      }
    }
    return codes;
  }

  visibleLines(columns = 16): [string, string] {
    const codes = this.visibleCodes(columns);
    const text = (part: number[]) => part.map(romCharacter).join("");
    return [text(codes.slice(0, columns)), text(codes.slice(columns))];
  }

  /** DDRAM line `row` as text, all 40 positions (hidden ones included). */
  line(row: 0 | 1): string {
    return [...this.ddram.subarray(row * 0x40, row * 0x40 + LINE_LENGTH)].map(romCharacter).join("");
  }

  get displayOn(): boolean {
    return this.#displayOn;
  }
  get fourBitMode(): boolean {
    return !this.#eightBit;
  }
  get twoLines(): boolean {
    return this.#twoLines;
  }
  get shift(): number {
    return this.#shift;
  }
  get lostCount(): number {
    return this.#lost;
  }
  get instructionCount(): number {
    return this.#instructions;
  }

  get cursor(): CursorState {
    const address = this.#address;
    let column: number | undefined;
    let row: number | undefined;
    if (!this.#cgramSelected) {
      const lineRow = address >= 0x40 ? 1 : 0;
      const offset = address - lineRow * 0x40;
      const visibleColumn = (offset - this.#shift + LINE_LENGTH * 2) % LINE_LENGTH;
      if (visibleColumn < 16) {
        column = visibleColumn;
        row = lineRow;
      }
    }
    return { address, visible: this.#cursorOn, blink: this.#blinkOn, column, row, onScreen: column !== undefined && this.#displayOn };
  }

  #visibleAddress(row: number, column: number): number {
    return row * 0x40 + ((column + this.#shift) % LINE_LENGTH + LINE_LENGTH) % LINE_LENGTH;
  }

  #execute(rs: 0 | 1, value: number, atMs: number): void {
    const what = rs ? `data 0x${hex(value)}${value >= 0x20 && value < 0x7f ? ` ('${String.fromCharCode(value)}')` : ""}` : `command 0x${hex(value)}`;
    if (atMs < this.#busyUntil) {
      this.#lose(this.#busyMessage(what, atMs));
      return;
    }
    if (!rs && value === 0) return; // no instruction has code 0x00: nothing happens
    this.#instructions++;
    if (rs) this.#writeData(value, atMs);
    else this.#command(value, atMs);
    for (const listener of this.#listeners) listener();
  }

  #busyDuration = BUSY_MS;

  #busyMessage(what: string, atMs: number): string {
    const advice = this.#busyBecause.includes("reset sequence")
      ? "wait 4.1 ms after the first 0x3 of the reset sequence and 100 µs after the second"
      : this.#busyDuration > 1
        ? "wait 2 ms after clear/home"
        : "wait at least 37 µs between instructions (a slower I2C clock, or a pause)";
    return (
      `${what} arrived ${(atMs - (this.#busyUntil - this.#busyDuration)).toFixed(2)} ms after ${this.#busyBecause}, which needs ` +
      `${this.#busyDuration.toFixed(2)} ms: lost — ${advice}`
    );
  }

  #busy(atMs: number, ms: number, because: string): void {
    this.#busyUntil = atMs + ms;
    this.#busyDuration = ms;
    this.#busyBecause = because;
  }

  #writeData(value: number, atMs: number): void {
    if (this.#cgramSelected) {
      this.cgram[this.#address & 0x3f] = value & 0x1f;
      this.#address = (this.#address + (this.#increment ? 1 : -1)) & 0x3f;
    } else {
      this.ddram[this.#address] = value;
      this.#address = this.#step(this.#address, this.#increment);
      if (this.#shiftOnWrite) this.#shift = (this.#shift + (this.#increment ? 1 : -1) + LINE_LENGTH) % LINE_LENGTH;
    }
    this.#busy(atMs, BUSY_MS, "a data write");
  }

  /** The address counter's next DDRAM position, with the 2-line map's jumps (0x27→0x40, 0x67→0x00). */
  #step(address: number, up: boolean): number {
    if (!this.#twoLines) return up ? (address + 1) % 0x50 : (address + 0x4f) % 0x50;
    if (up) return address === 0x27 ? 0x40 : address === 0x67 ? 0x00 : address + 1;
    return address === 0x40 ? 0x27 : address === 0x00 ? 0x67 : address - 1;
  }

  #command(value: number, atMs: number): void {
    if (value & 0x80) {
      const address = value & 0x7f;
      if (this.#twoLines && ((address >= 0x28 && address < 0x40) || address >= 0x68)) {
        this.#diagnostics.report(this.#part, "warning", `DDRAM address 0x${hex(address)} does not exist in 2-line mode (lines are 0x00–0x27 and 0x40–0x67) — for row 1 use 0x40 + column`);
      }
      this.#address = address;
      this.#cgramSelected = false;
      this.#busy(atMs, BUSY_MS, "set DDRAM address");
    } else if (value & 0x40) {
      this.#address = value & 0x3f;
      this.#cgramSelected = true;
      this.#busy(atMs, BUSY_MS, "set CGRAM address");
    } else if (value & 0x20) {
      this.#functionSet(value, atMs);
    } else if (value & 0x10) {
      const displayShift = (value & 0x08) !== 0;
      const right = (value & 0x04) !== 0;
      if (displayShift) this.#shift = (this.#shift + (right ? -1 : 1) + LINE_LENGTH) % LINE_LENGTH;
      else this.#address = this.#step(this.#address, right);
      this.#busy(atMs, BUSY_MS, "cursor/display shift");
    } else if (value & 0x08) {
      this.#displayOn = (value & 0x04) !== 0;
      this.#cursorOn = (value & 0x02) !== 0;
      this.#blinkOn = (value & 0x01) !== 0;
      this.#busy(atMs, BUSY_MS, "display control");
    } else if (value & 0x04) {
      this.#increment = (value & 0x02) !== 0;
      this.#shiftOnWrite = (value & 0x01) !== 0;
      this.#busy(atMs, BUSY_MS, "entry mode set");
    } else if (value & 0x02) {
      this.#address = 0;
      this.#cgramSelected = false;
      this.#shift = 0;
      this.#busy(atMs, BUSY_LONG_MS, "return home (0x02)");
    } else if (value & 0x01) {
      this.ddram.fill(0x20);
      this.#address = 0;
      this.#cgramSelected = false;
      this.#shift = 0;
      this.#increment = true;
      this.#busy(atMs, BUSY_LONG_MS, "clear display (0x01)");
    }
  }

  #functionSet(value: number, atMs: number): void {
    const eightBit = (value & 0x10) !== 0;
    const twoLines = (value & 0x08) !== 0;
    const bigFont = (value & 0x04) !== 0;
    this.#pendingHigh = undefined;
    if (eightBit) {
      // DL=1: (back) into 8-bit mode — the reset sequence 0x3, 0x3, 0x3 that makes the interface known again.
      // Only the reset sequence right after power-on needs the datasheet's 4.1 ms and 100 µs; later ones take 37 µs.
      this.#eightBit = true;
      this.#functionSets++;
      const afterPowerOn = this.#instructions === this.#functionSets;
      const wait = afterPowerOn && this.#functionSets === 1 ? 4.1 : afterPowerOn && this.#functionSets === 2 ? 0.1 : BUSY_MS;
      this.#busy(atMs, wait, wait > BUSY_MS ? `function set #${this.#functionSets} of the power-on reset sequence` : "function set");
      return;
    }
    if (this.#eightBit) {
      // 0x2 in 8-bit mode: now 4-bit. N and F (on D3, D2, not wired) come with the next, 4-bit, function set.
      this.#eightBit = false;
      this.#functionSets = 0;
      this.#busy(atMs, BUSY_MS, "function set (to 4-bit)");
      return;
    }
    if (this.#configured && (twoLines !== this.#twoLines || bigFont !== this.#bigFont)) {
      this.#diagnostics.report(
        this.#part,
        "warning",
        `function set 0x${hex(value)} changes the line count or font after initialisation; the HD44780 only takes them right after the reset sequence — send function set once, in the init`,
      );
      this.#busy(atMs, BUSY_MS, "function set");
      return;
    }
    this.#twoLines = twoLines;
    this.#bigFont = bigFont;
    this.#configured = true;
    this.#busy(atMs, BUSY_MS, "function set");
  }

  #configured = false;

  #lose(message: string): void {
    this.#lost++;
    this.#diagnostics.report(this.#part, "error", message);
  }
}

function hex(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, "0");
}

/** The character ROM (A00, the common Japanese variant) as text; CGRAM codes 0–7 show as their index in a box. */
export function romCharacter(code: number): string {
  if (code < 0x08) return String.fromCharCode(0x2460 + code); // ①..⑧ marks a custom glyph
  if (code === 0x5c) return "¥";
  if (code === 0x7e) return "→";
  if (code === 0x7f) return "←";
  if (code >= 0x20 && code < 0x7e) return String.fromCharCode(code);
  if (code === 0xdf) return "°";
  return "▯";
}
