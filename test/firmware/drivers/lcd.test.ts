import { describe, expect, it } from "vitest";
import { LCD } from "../../../firmware/drivers/lcd.ts";
import { VirtualBoard, wireBoard } from "../../../host-tools/board/index.ts";
import type { Lcd1602I2C } from "../../../host-tools/board/parts/lcd1602-i2c.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

function setup(address = 0x27, hz = 100_000) {
  const clock = new VirtualClock();
  const board = new VirtualBoard({ clock });
  wireBoard(board, { i2c: { sda: 21, scl: 22 }, parts: [{ type: "lcd1602-i2c", id: "lcd", address }] });
  const part = board.part<Lcd1602I2C>("lcd");
  const lcd = new LCD({ i2c: { io: board.io.I2C, data: 21, clock: 22, hz, address }, clock });
  return { clock, board, part, lcd };
}

describe("LCD driver on the HD44780 + PCF8574 model", () => {
  it("initialises into 4-bit, 2-line mode and prints where setCursor says", () => {
    const { part, lcd, board } = setup();
    expect(part.controller.fourBitMode).toBe(true);
    expect(part.controller.twoLines).toBe(true);
    lcd.print("Hello");
    lcd.setCursor(3, 1);
    lcd.print("world");
    expect(part.lines).toEqual(["Hello           ", "   world        "]);
    expect(part.backlight).toBe(true);
    expect(board.diagnostics.of("lcd", "warning")).toEqual([]);
  });

  it("clears, homes and keeps every command (no command lost after clear)", () => {
    const { part, lcd, board } = setup();
    lcd.print("x".repeat(16));
    lcd.clear();
    lcd.print("after");
    lcd.home();
    lcd.print("A");
    expect(part.lines[0]).toBe("After           ");
    expect(part.controller.lostCount).toBe(0);
    expect(board.diagnostics.of("lcd", "error")).toEqual([]);
  });

  it("a naive variant of the driver that skips the wait after clear loses the next command, and the model says so", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { i2c: { sda: 21, scl: 22 }, parts: [{ type: "lcd1602-i2c", id: "lcd" }] });
    const part = board.part<Lcd1602I2C>("lcd");
    let naive = false;
    // Same driver, but once initialised its 2 ms waits after clear/home are skipped, as in drivers that forget them.
    const naiveClock = Object.create(clock, {
      delay: { value: (ms: number) => (naive && ms >= 1 ? undefined : clock.delay(ms)) },
    }) as VirtualClock;
    const lcd = new LCD({ i2c: { io: board.io.I2C, data: 21, clock: 22, hz: 100_000, address: 0x27 }, clock: naiveClock });
    lcd.print("stale");
    naive = true;
    lcd.clear();
    lcd.setCursor(0, 1);
    lcd.print("new");
    expect(board.diagnostics.of("lcd", "error")[0]?.message).toMatch(/after clear display \(0x01\).*lost — wait 2 ms after clear\/home/);
    expect(part.controller.lostCount).toBeGreaterThan(0);
    expect(part.lines[1]).not.toBe("new             ");
  });

  it("shows custom glyphs from CGRAM and returns to DDRAM afterwards", () => {
    const { part, lcd } = setup();
    lcd.createChar(1, [0, 0x0a, 0x1f, 0x1f, 0x0e, 0x04, 0, 0]);
    lcd.print(`I ${String.fromCharCode(1)} it`);
    expect(part.snapshot().characters.slice(0, 6)).toEqual([0x49, 0x20, 0x01, 0x20, 0x69, 0x74]);
    expect([...part.controller.cgram.subarray(8, 16)]).toEqual([0, 0x0a, 0x1f, 0x1f, 0x0e, 0x04, 0, 0]);
  });

  it("blink, cursor and backlight keep the display on (the bug in common drivers)", () => {
    const { part, lcd } = setup();
    lcd.print("visible");
    lcd.blink();
    lcd.cursor();
    expect(part.controller.displayOn).toBe(true);
    expect(part.snapshot().cursor).toMatchObject({ visible: true, blink: true, column: 7, row: 0 });
    lcd.backlight(false);
    expect(part.backlight).toBe(false);
    lcd.print("!");
    expect(part.backlight).toBe(false); // the backlight bit stays off on later writes, no flicker
    expect(part.lines[0]).toBe("visible!        ");
    lcd.noDisplay();
    expect(part.lines[0]).toBe(" ".repeat(16));
    lcd.display();
    expect(part.lines[0]).toBe("visible!        ");
  });

  it("maps text to the character ROM", () => {
    const { part, lcd } = setup();
    lcd.print("25°C ¥ é");
    expect(part.lines[0]).toBe("25°C ¥ ?        ");
  });

  it("sends 4 I2C bytes per character, in one write per string", () => {
    const { board, lcd } = setup();
    const bus = board.i2cBus({ sda: 21, scl: 22 });
    const device = bus.device(0x27)!;
    let bytes = 0;
    let writes = 0;
    const original = device.write.bind(device);
    device.write = (data, timing) => {
      bytes += data.length;
      writes++;
      original(data, timing);
    };
    lcd.print("0123456789ABCDEF");
    expect(bytes).toBe(64);
    expect(writes).toBe(1);
  });

  it("pads instructions on a fast bus so the controller keeps up", () => {
    const { part, lcd, board } = setup(0x27, 1_000_000);
    lcd.print("fast bus");
    expect(part.lines[0]).toBe("fast bus        ");
    expect(board.diagnostics.of("lcd", "error")).toEqual([]);
  });

  it("survives a firmware restart with the LCD still powered in 4-bit mode", () => {
    const { part, lcd, board, clock } = setup();
    lcd.print("before");
    lcd.close();
    const again = new LCD({ i2c: { io: board.io.I2C, data: 21, clock: 22, hz: 100_000, address: 0x27 }, clock });
    again.print("after reset");
    expect(part.lines[0]).toBe("after reset     ");
    expect(board.diagnostics.of("lcd", "warning")).toEqual([]);
  });

  it("names the address, the pins and the other address when nothing answers", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { i2c: { sda: 21, scl: 22 }, parts: [{ type: "lcd1602-i2c", id: "lcd", address: 0x3f }] });
    expect(() => new LCD({ i2c: { io: board.io.I2C, data: 21, clock: 22, address: 0x27 }, clock })).toThrow(
      /no answer from 0x27 on I2C SDA 21\/SCL 22.*try address 0x3F/,
    );
  });

  it("rejects a cursor outside the display", () => {
    const { lcd } = setup();
    expect(() => lcd.setCursor(16, 0)).toThrow(/outside the 16x2 display/);
  });
});
