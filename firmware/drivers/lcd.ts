import { UsageError } from "../core/errors.ts";
import type { Clock } from "../ports/clock.ts";
import type { I2CConstructor, I2CInstance } from "../ports/io.ts";

/**
 * HD44780 character LCD behind a PCF8574 I2C backpack (P0 RS, P1 RW, P2 E, P3 backlight, P4–P7 D4–D7).
 *
 *   const lcd = new LCD({ i2c: { io: device.io.I2C, data: 21, clock: 22, hz: 100_000, address: 0x27 }, clock });
 *   lcd.print("Hello");
 *
 * Each nibble costs two expander bytes (data with E high, then E low: the controller latches on the falling edge),
 * and a whole string goes out in one I2C write — 4 bytes per character, against 6 in one transaction each for the
 * common three-writes-per-nibble drivers. Clear and home wait 2 ms (the controller is busy 1.52 ms and would drop
 * the next command). blink(), cursor() and backlight() keep the display on, unlike drivers that blank it.
 */

const RS = 0x01;
const E = 0x04;
const BACKLIGHT = 0x08;

const CLEAR = 0x01;
const HOME = 0x02;
const ENTRY_MODE = 0x04;
const ENTRY_INCREMENT = 0x02;
const DISPLAY_CONTROL = 0x08;
const DISPLAY_ON = 0x04;
const CURSOR_ON = 0x02;
const BLINK_ON = 0x01;
const SHIFT = 0x10;
const SHIFT_DISPLAY = 0x08;
const SHIFT_RIGHT = 0x04;
const FUNCTION_SET_4BIT_2LINE = 0x28;
const SET_CGRAM = 0x40;
const SET_DDRAM = 0x80;

/** Smallest gap between two instructions the controller accepts (37 µs), with margin. */
const INSTRUCTION_GAP_MS = 0.045;

export interface LCDOptions {
  i2c: { io: I2CConstructor; data: number; clock: number; hz?: number; address?: number };
  clock: Clock;
  columns?: number;
  rows?: number;
}

export class LCD {
  readonly columns: number;
  readonly rows: number;
  readonly #i2c: I2CInstance;
  readonly #clock: Clock;
  readonly #rowOffsets: number[];
  /** Idle bytes to add between instructions when the bus is fast enough to outrun the controller. */
  readonly #padding: number;
  #backlight = BACKLIGHT;
  #control = DISPLAY_CONTROL | DISPLAY_ON;
  #closed = false;

  constructor(options: LCDOptions) {
    const { io, data, clock, hz = 100_000, address = 0x27 } = options.i2c;
    this.columns = options.columns ?? 16;
    this.rows = options.rows ?? 2;
    if (![1, 2, 4].includes(this.rows) || this.columns < 8 || this.columns > 40) {
      throw new UsageError("LCD_SIZE", `an HD44780 LCD is 8–40 columns by 1, 2 or 4 rows, got ${this.columns}x${this.rows}`);
    }
    // 20x4 panels continue line 0 on row 2 and line 1 on row 3.
    this.#rowOffsets = [0x00, 0x40, this.columns, 0x40 + this.columns];
    this.#clock = options.clock;
    const byteMs = (9 * 1000) / hz;
    this.#padding = Math.max(0, Math.ceil(INSTRUCTION_GAP_MS / byteMs) - 2);
    this.#i2c = new io({ data, clock, hz, address });
    this.#initialise();
  }

  /** The 4-bit reset sequence (datasheet figure 24), then 2 lines, display on, cleared, left to right. */
  #initialise(): void {
    this.#clock.delay(50);
    this.#writeNibble(0x3, 0);
    this.#clock.delay(4.5);
    this.#writeNibble(0x3, 0);
    this.#clock.delay(0.2);
    this.#writeNibble(0x3, 0);
    this.#clock.delay(0.2);
    this.#writeNibble(0x2, 0);
    this.#command(FUNCTION_SET_4BIT_2LINE);
    this.#command(this.#control);
    this.clear();
    this.#command(ENTRY_MODE | ENTRY_INCREMENT);
  }

  print(text: string): void {
    const codes: number[] = [];
    for (const char of String(text)) codes.push(characterCode(char));
    this.#send(codes, RS);
  }

  setCursor(column: number, row: number): void {
    if (!Number.isInteger(column) || !Number.isInteger(row) || column < 0 || row < 0 || column >= this.columns || row >= this.rows) {
      throw new UsageError("LCD_CURSOR", `setCursor(${column}, ${row}) is outside the ${this.columns}x${this.rows} display (columns 0–${this.columns - 1}, rows 0–${this.rows - 1})`);
    }
    this.#command(SET_DDRAM | (this.#rowOffsets[row]! + column));
  }

  clear(): void {
    this.#command(CLEAR);
    this.#clock.delay(2);
  }

  home(): void {
    this.#command(HOME);
    this.#clock.delay(2);
  }

  /** Defines custom glyph 0–7 from 8 rows of 5 bits; print String.fromCharCode(index) to show it. */
  createChar(index: number, rows: ArrayLike<number>): void {
    if (!Number.isInteger(index) || index < 0 || index > 7 || rows.length !== 8) {
      throw new UsageError("LCD_GLYPH", "createChar takes an index 0–7 and 8 rows of 5 bits");
    }
    this.#command(SET_CGRAM | (index << 3));
    this.#send(Array.from(rows, (row) => row & 0x1f), RS);
    this.#command(SET_DDRAM); // back to DDRAM so the next print lands on screen
  }

  display(on = true): void {
    this.#setControl(DISPLAY_ON, on);
  }
  noDisplay(): void {
    this.display(false);
  }
  cursor(on = true): void {
    this.#setControl(CURSOR_ON, on);
  }
  noCursor(): void {
    this.cursor(false);
  }
  blink(on = true): void {
    this.#setControl(BLINK_ON, on);
  }
  noBlink(): void {
    this.blink(false);
  }
  scrollLeft(): void {
    this.#command(SHIFT | SHIFT_DISPLAY);
  }
  scrollRight(): void {
    this.#command(SHIFT | SHIFT_DISPLAY | SHIFT_RIGHT);
  }

  backlight(on = true): void {
    this.#backlight = on ? BACKLIGHT : 0;
    this.#write([this.#backlight]);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#i2c.close();
  }

  #setControl(bit: number, on: boolean): void {
    this.#control = on ? this.#control | bit : this.#control & ~bit;
    this.#command(this.#control);
  }

  #command(value: number): void {
    this.#send([value], 0);
  }

  /** Sends bytes as instructions (rs 0) or data (rs RS), high nibble first, in one I2C write. */
  #send(values: number[], rs: number): void {
    const bytes: number[] = [];
    const idle = this.#backlight | rs;
    for (const value of values) {
      for (const nibble of [value >> 4, value & 0x0f]) {
        const lines = (nibble << 4) | idle;
        bytes.push(lines | E, lines);
      }
      for (let i = 0; i < this.#padding; i++) bytes.push(idle);
    }
    this.#write(bytes);
  }

  #writeNibble(nibble: number, rs: number): void {
    const lines = (nibble << 4) | this.#backlight | rs;
    const bytes = [lines | E, lines];
    for (let i = 0; i < this.#padding; i++) bytes.push(lines);
    this.#write(bytes);
  }

  #write(bytes: number[]): void {
    if (this.#closed) throw new UsageError("LCD_CLOSED", "the LCD was closed");
    this.#i2c.write(Uint8Array.from(bytes));
  }
}

/** Maps text to the HD44780's A00 character ROM; what the ROM lacks becomes "?". */
export function characterCode(char: string): number {
  const code = char.charCodeAt(0);
  if (code < 0x08) return code; // custom glyphs 0–7
  if (char === "¥") return 0x5c;
  if (char === "→") return 0x7e;
  if (char === "←") return 0x7f;
  if (char === "°") return 0xdf;
  if (code === 0x5c || code === 0x7e) return 0x3f; // "\\" and "~" are ¥ and → in this ROM
  if (code >= 0x20 && code < 0x7e) return code;
  return 0x3f;
}
