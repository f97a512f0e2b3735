import type { Part, VirtualBoard } from "../board.ts";
import { registerPartKind, type PartSpec } from "../description.ts";
import { HD44780 } from "./hd44780.ts";
import { PCF8574 } from "./pcf8574.ts";

/** Backpack wiring of the expander's bits (the common one): P0 RS, P1 RW, P2 E, P3 backlight, P4–P7 D4–D7. */
const RS = 0x01;
const RW = 0x02;
const E = 0x04;
const BACKLIGHT = 0x08;

/** A 16x2 character LCD with a PCF8574 I2C backpack. */
export class Lcd1602I2C implements Part {
  readonly id: string;
  readonly type = "lcd1602-i2c";
  readonly address: number;
  readonly controller: HD44780;
  readonly expander: PCF8574;

  constructor(id: string, address: number, board: VirtualBoard, bus: { sda: number; scl: number }) {
    this.id = id;
    this.address = address;
    this.controller = new HD44780(id, board.diagnostics, board.clock.now());
    this.expander = new PCF8574(id, address, (value, previous, atMs) => {
      if (previous & E && !(value & E)) this.controller.latch(value & RS ? 1 : 0, value & RW ? 1 : 0, value >> 4, atMs);
    }, (message) => board.diagnostics.reportOnce(id, "warning", message));
    board.i2cBus(bus).attach(this.expander);
  }

  get backlight(): boolean {
    return (this.expander.outputs & BACKLIGHT) !== 0;
  }

  /** What a person sees: the two lines of text. */
  get lines(): [string, string] {
    return this.controller.visibleLines();
  }

  /**
   * What an ESP32 reset between the two nibbles of a byte leaves behind: the controller, still powered in 4-bit
   * mode, holds the high nibble of an instruction (0x0, as of entry mode 0x06) and pairs the next nibble it gets with
   * it. Only the full reset sequence (0x3, 0x3, 0x3, then 0x2: HD44780U datasheet, figure 24) brings it back in
   * step from any such state.
   */
  leaveHalfAByte(atMs: number): void {
    this.controller.latch(0, 0, 0x0, atMs);
  }

  snapshot() {
    return {
      address: this.address,
      lines: this.controller.visibleLines(),
      characters: this.controller.visibleCodes(),
      cgram: [...this.controller.cgram],
      backlight: this.backlight,
      displayOn: this.controller.displayOn,
      cursor: this.controller.cursor,
      lost: this.controller.lostCount,
    };
  }
}

registerPartKind({
  type: "lcd1602-i2c",
  summary: "16x2 character LCD (HD44780) on a PCF8574 I2C backpack",
  check(spec: PartSpec) {
    const address = spec.address ?? 0x27;
    if (typeof address !== "number" || !((address >= 0x20 && address <= 0x27) || (address >= 0x38 && address <= 0x3f))) {
      return [`address must be a PCF8574 (0x20–0x27) or PCF8574A (0x38–0x3F) address, got ${String(address)}`];
    }
    return [];
  },
  pins(_spec, description) {
    if (!description.i2c) return [];
    return [
      { pin: description.i2c.sda, use: "i2c", role: "SDA" },
      { pin: description.i2c.scl, use: "i2c", role: "SCL" },
    ];
  },
  create(spec, board, description) {
    if (!description.i2c) throw new Error(`${spec.id}: the board description needs "i2c": { "sda": …, "scl": … } for an I2C LCD`);
    return new Lcd1602I2C(spec.id, (spec.address as number | undefined) ?? 0x27, board, description.i2c);
  },
});
