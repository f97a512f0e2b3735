import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VirtualBoard, wireBoard } from "../../../../host-tools/board/index.ts";
import type { Lcd1602I2C } from "../../../../host-tools/board/parts/lcd1602-i2c.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";

const E = 0x04;
const RS = 0x01;
const BL = 0x08;

/**
 * A deliberately plain driver written against the datasheet, in the common three-writes-per-nibble style, with
 * switchable mistakes: the model must accept the right sequence and catch each mistake.
 */
function rawLcd(options: { skipPowerOnWait?: boolean; skipResetWait?: boolean } = {}) {
  const clock = new VirtualClock();
  const board = new VirtualBoard({ clock });
  wireBoard(board, { i2c: { sda: 21, scl: 22 }, parts: [{ type: "lcd1602-i2c", id: "lcd" }] });
  const part = board.part<Lcd1602I2C>("lcd");
  const i2c = new board.io.I2C({ data: 21, clock: 22, hz: 100_000, address: 0x27 });
  const nibble = (value: number, rs = 0) => {
    const lines = (value << 4) | BL | rs;
    i2c.write(Uint8Array.of(lines));
    i2c.write(Uint8Array.of(lines | E));
    i2c.write(Uint8Array.of(lines));
  };
  const byte = (value: number, rs = 0) => {
    nibble(value >> 4, rs);
    nibble(value & 0xf, rs);
  };
  const text = (s: string) => [...s].forEach((c) => byte(c.charCodeAt(0), RS));
  if (!options.skipPowerOnWait) clock.delay(50);
  // The expander powers up with every output high (E too): first bring E low, as LiquidCrystal_I2C does.
  i2c.write(Uint8Array.of(BL));
  nibble(3);
  if (!options.skipResetWait) clock.delay(4.5);
  nibble(3);
  clock.delay(0.2);
  nibble(3);
  nibble(2);
  byte(0x28);
  byte(0x0c);
  byte(0x01);
  clock.delay(2);
  byte(0x06);
  return { clock, board, part, nibble, byte, text };
}

describe("HD44780 + PCF8574 model against the datasheet facts", () => {
  it("powers up in 8-bit mode and reaches 4-bit, 2-line mode through 3-3-3-2", () => {
    const { part, board, text } = rawLcd();
    text("OK");
    expect(part.controller.fourBitMode).toBe(true);
    expect(part.lines[0]).toBe("OK              ");
    expect(board.diagnostics.of("lcd", "warning")).toEqual([]);
  });

  it("after an ESP32 reset with the LCD still powered in 4-bit mode, only the full 3-3-3-2 sequence brings it back in step", () => {
    const reinit = (full: boolean, midByte: boolean) => {
      const { part, clock, nibble, byte, text } = rawLcd();
      text("before");
      clock.delay(1);
      if (midByte) part.leaveHalfAByte(clock.now()); // the reset came between the two nibbles of a byte
      clock.delay(50); // the new firmware boots; the LCD stayed powered and in 4-bit mode
      if (full) {
        nibble(3);
        clock.delay(4.5);
        nibble(3);
        clock.delay(0.2);
        nibble(3);
      }
      nibble(2); // a driver that only switches to 4-bit, as if the LCD had just powered up in 8-bit mode
      byte(0x28);
      byte(0x0c);
      byte(0x01);
      clock.delay(2);
      byte(0x06);
      text("after");
      return part.lines[0];
    };
    expect(reinit(true, false)).toBe("after           ");
    expect(reinit(true, true)).toBe("after           ");
    expect(reinit(false, false)).not.toBe("after           "); // the lone 0x2 pairs with the next nibble: every byte after is split wrongly
  });

  it("drops nibbles sent before the power-on time and says to wait", () => {
    const { board } = rawLcd({ skipPowerOnWait: true });
    expect(board.diagnostics.of("lcd", "error")[0]?.message).toMatch(/before the controller is ready \(15 ms\)/);
  });

  it("puts text past column 15 in hidden DDRAM 0x10–0x27, not on line 2", () => {
    const { part, text } = rawLcd();
    text("0123456789ABCDEFGHIJ");
    expect(part.lines).toEqual(["0123456789ABCDEF", " ".repeat(16)]);
    expect(part.controller.line(0).slice(16, 20)).toBe("GHIJ");
  });

  it("jumps the address counter from 0x27 to 0x40 (line 2)", () => {
    const { part, text } = rawLcd();
    text("x".repeat(40));
    text("yz");
    expect(part.lines[1]).toBe("yz              ");
  });

  it("loses a command sent right after clear, and says why", () => {
    const { part, board, byte, text } = rawLcd();
    text("stale");
    byte(0x01); // clear, then no wait
    byte(0xc0); // set DDRAM 0x40: lost while busy
    text("new");
    expect(board.diagnostics.of("lcd", "error")[0]?.message).toMatch(/after clear display \(0x01\).*1\.52 ms: lost — wait 2 ms after clear\/home/);
    expect(part.controller.lostCount).toBeGreaterThan(0);
    expect(part.lines[1]).not.toContain("new");
  });

  it("shifts the display and home undoes the shift", () => {
    const { part, byte, text, clock } = rawLcd();
    text("ABCDEFGHIJKLMNOPQ");
    byte(0x18); // shift display left
    expect(part.lines[0]).toBe("BCDEFGHIJKLMNOPQ");
    byte(0x02);
    clock.delay(2);
    expect(part.lines[0]).toBe("ABCDEFGHIJKLMNOP");
  });

  it("blanks the screen when display control clears D (the blink/backlight helper bug)", () => {
    const { part, byte, text } = rawLcd();
    text("hello");
    byte(0x08 | 0x01); // "blink" sent without the display-on bit
    expect(part.lines[0]).toBe(" ".repeat(16));
  });

  it("reports a re-sent function set that tries to change the line count", () => {
    const { board, byte } = rawLcd();
    byte(0x20); // 4-bit, 1 line
    expect(board.diagnostics.of("lcd", "warning")[0]?.message).toMatch(/changes the line count or font after initialisation/);
  });

  it("stores CGRAM glyphs as 5-bit rows", () => {
    const { part, byte } = rawLcd();
    byte(0x40 | 8);
    for (const row of [0xff, 0x11, 0, 0, 0, 0, 0, 0]) byte(row, RS);
    expect([...part.controller.cgram.subarray(8, 10)]).toEqual([0x1f, 0x11]);
  });

  it("never throws on any stream of expander bytes: it reports instead", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 30 }), fc.nat(100), (writes, waitMs) => {
        const clock = new VirtualClock();
        const board = new VirtualBoard({ clock });
        wireBoard(board, { i2c: { sda: 21, scl: 22 }, parts: [{ type: "lcd1602-i2c", id: "lcd" }] });
        const i2c = new board.io.I2C({ data: 21, clock: 22, hz: 100_000, address: 0x27 });
        clock.delay(waitMs);
        for (const bytes of writes) i2c.write(bytes);
        const snapshot = board.part<Lcd1602I2C>("lcd").snapshot();
        expect(snapshot.lines[0]).toHaveLength(16);
      }),
      { numRuns: 300 },
    );
  });
  it("reports a reset sequence sent without the 4.1 ms wait after the first function set", () => {
    const { board } = rawLcd({ skipResetWait: true });
    const errors = board.diagnostics.of("lcd", "error").map((d) => d.message);
    expect(errors.some((m) => /function set #1 of the power-on reset sequence/.test(m) && /lost/.test(m))).toBe(true);
  });

  it("wraps the address counter from 0x67 back to 0x00", () => {
    const { part, byte, text } = rawLcd();
    byte(0xc0 | 0x27); // DDRAM 0x67, the last cell of line 2
    text("zA");
    expect(part.lines[0]).toBe("A               ");
  });

  it("warns, once, when the PCF8574 is clocked beyond the 100 kHz it is specified to", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { i2c: { sda: 21, scl: 22 }, parts: [{ type: "lcd1602-i2c", id: "lcd" }] });
    clock.delay(50); // past the controller's power-on time
    new board.io.I2C({ data: 21, clock: 22, hz: 100_000, address: 0x27 }).write(Uint8Array.of(BL));
    expect(board.diagnostics.of("lcd")).toEqual([]);
    const fast = new board.io.I2C({ data: 21, clock: 22, hz: 400_000, address: 0x27 });
    fast.write(Uint8Array.of(BL));
    fast.write(Uint8Array.of(BL));
    expect(board.diagnostics.of("lcd", "warning").map((entry) => entry.message)).toEqual([
      "the PCF8574 at 0x27 is clocked at 400 kHz; it is specified to 100 kHz (TI datasheet §7.6) — open the I2C bus with hz: 100000",
    ]);
  });

  it("follows the backlight bit (P3) on every expander write", () => {
    const { part, nibble } = rawLcd();
    expect(part.backlight).toBe(true);
    const lines = 0x00; // P3 low: backlight off, E low
    part.expander.write(Uint8Array.of(lines), { at: () => 1000, hz: 100_000 });
    expect(part.backlight).toBe(false);
    nibble(0); // the helper writes with BL set again
    expect(part.backlight).toBe(true);
  });
});
