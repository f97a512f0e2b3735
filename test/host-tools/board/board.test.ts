import { describe, expect, it } from "vitest";
import { VirtualBoard, I2CNackError, WiringError, checkDescription, registerPartKind, wireBoard } from "../../../host-tools/board/index.ts";
import type { I2CDevice } from "../../../host-tools/board/index.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

function makeBoard() {
  const clock = new VirtualClock();
  return { clock, board: new VirtualBoard({ clock }) };
}

describe("virtual board pins", () => {
  it("refuses pins the ESP32 does not have or cannot use that way, naming the pin", () => {
    const { board } = makeBoard();
    const { Digital, PWM } = board.io;
    expect(() => new Digital({ pin: 24, mode: Digital.Input })).toThrow(/GPIO24 does not exist/);
    expect(() => new Digital({ pin: 7, mode: Digital.Input })).toThrow(/SPI flash/);
    expect(() => new Digital({ pin: 35, mode: Digital.Output })).toThrow(/GPIO35 is input-only/);
    expect(() => new Digital({ pin: 36, mode: Digital.InputPullUp })).toThrow(/no internal pull-up/);
    expect(() => new PWM({ pin: 34, hz: 50 })).toThrow(WiringError);
  });

  it("refuses a pin opened twice until the first is closed", () => {
    const { board } = makeBoard();
    const { Digital } = board.io;
    const first = new Digital({ pin: 4, mode: Digital.Output });
    expect(() => new Digital({ pin: 4, mode: Digital.Input })).toThrow(/GPIO4 is already in use/);
    first.close();
    first.close();
    expect(() => first.write(1)).toThrow(/closed/);
    expect(new Digital({ pin: 4, mode: Digital.Input })).toBeDefined();
  });

  it("reads pulls, outputs and reports a floating input", () => {
    const { board } = makeBoard();
    const { Digital } = board.io;
    expect(new Digital({ pin: 13, mode: Digital.InputPullUp }).read()).toBe(1);
    expect(new Digital({ pin: 14, mode: Digital.InputPullDown }).read()).toBe(0);
    new Digital({ pin: 27, mode: Digital.Input }).read();
    expect(board.diagnostics.of("firmware", "warning").map((d) => d.message).join()).toMatch(/GPIO27 is floating.*InputPullUp/);
  });

  it("joins pins through a closed switch and reports two outputs fighting as a short", () => {
    const { board } = makeBoard();
    const { Digital } = board.io;
    let closed = false;
    board.nets.connect("keypad", "key 5", 13, 25, () => closed);
    const row = new Digital({ pin: 13, mode: Digital.InputPullUp });
    const column = new Digital({ pin: 25, mode: Digital.Output });
    column.write(0);
    expect(row.read()).toBe(1);
    closed = true;
    expect(row.read()).toBe(0);
    const other = new Digital({ pin: 26, mode: Digital.Output });
    other.write(1);
    board.nets.connect("keypad", "key 6", 13, 26, () => true);
    row.read();
    expect(board.diagnostics.of("board", "error")[0]?.message).toMatch(/short circuit.*GPIO26.*GPIO25|short circuit.*GPIO25.*GPIO26/);
  });

  it("fires onReadable on the chosen edge, asynchronously as on the device", async () => {
    const { board, clock } = makeBoard();
    const { Digital } = board.io;
    let level: 0 | 1 = 1;
    board.nets.drive(34, "ir", () => level);
    const edges: number[] = [];
    new Digital({
      pin: 34,
      mode: Digital.Input,
      edge: Digital.Falling,
      onReadable() {
        edges.push(this.read());
      },
    });
    level = 0;
    board.nets.changed();
    expect(edges).toEqual([]);
    await clock.advance(1);
    level = 1;
    board.nets.changed();
    await clock.advance(1);
    expect(edges).toEqual([0]);
  });
});

describe("virtual board I2C", () => {
  function echoDevice(address: number, log: { bytes: number[]; at: number[] }): I2CDevice {
    return {
      address,
      part: "probe",
      write(bytes, timing) {
        bytes.forEach((b, i) => {
          log.bytes.push(b);
          log.at.push(timing.at(i));
        });
      },
      read: (count) => new Uint8Array(count).fill(0xab),
    };
  }

  it("delivers bytes with wire timing and moves the clock by the transfer time", () => {
    const { board, clock } = makeBoard();
    const log = { bytes: [] as number[], at: [] as number[] };
    board.i2cBus({ sda: 21, scl: 22 }).attach(echoDevice(0x27, log));
    const i2c = new board.io.I2C({ data: 21, clock: 22, hz: 100_000, address: 0x27 });
    i2c.write(Uint8Array.of(1, 2, 3));
    expect(log.bytes).toEqual([1, 2, 3]);
    expect(log.at[1]! - log.at[0]!).toBeCloseTo(0.09, 5); // 9 clocks at 100 kHz
    expect(clock.now()).toBeCloseTo(0.02 + 0.09 * 4, 5); // address byte + 3 data bytes
    expect([...new Uint8Array(i2c.read(2))]).toEqual([0xab, 0xab]);
  });

  it("NACKs an absent address and suggests the PCF8574A address that answers", () => {
    const { board } = makeBoard();
    board.i2cBus({ sda: 21, scl: 22 }).attach(echoDevice(0x3f, { bytes: [], at: [] }));
    const i2c = new board.io.I2C({ data: 21, clock: 22, hz: 100_000, address: 0x27 });
    expect(() => i2c.write(Uint8Array.of(0))).toThrow(I2CNackError);
    expect(() => i2c.write(Uint8Array.of(0))).toThrow(/no answer from 0x27 on I2C SDA 21\/SCL 22.*try address 0x3F/);
  });

  it("explains swapped SDA and SCL", () => {
    const { board } = makeBoard();
    board.i2cBus({ sda: 21, scl: 22 }).attach(echoDevice(0x27, { bytes: [], at: [] }));
    const i2c = new board.io.I2C({ data: 22, clock: 21, hz: 100_000, address: 0x27 });
    expect(() => i2c.write(Uint8Array.of(0))).toThrow(/SDA and SCL are swapped/);
  });
});

describe("board descriptions", () => {
  registerPartKind({
    type: "test-led",
    summary: "an LED for these tests",
    check: (spec) => (typeof spec.pin === "number" ? [] : ['"pin" must be a GPIO number']),
    pins: (spec) => [{ pin: spec.pin as number, use: "output", role: "anode" }],
    create: (spec) => ({ id: spec.id, type: "test-led", snapshot: () => ({}) }),
  });

  it("lists every wiring mistake with the part, the pin and the fix", () => {
    const report = checkDescription({
      parts: [
        { type: "test-led", id: "a", pin: 4 },
        { type: "test-led", id: "b", pin: 4 },
        { type: "test-led", id: "c", pin: 39 },
        { type: "warp-drive", id: "d" },
        { type: "test-led", id: "e" },
      ],
    });
    expect(report.errors).toEqual([
      "b anode: GPIO4 is already used by a anode — each pin can serve one part; move one of them",
      expect.stringMatching(/^c anode: GPIO39 is input-only/),
      expect.stringMatching(/^d: unknown part type "warp-drive"/),
      'e: "pin" must be a GPIO number',
    ]);
  });

  it("builds a valid description and warns about strapping pins", () => {
    const { board } = makeBoard();
    wireBoard(board, { parts: [{ type: "test-led", id: "led", pin: 2 }] });
    expect(board.part("led").type).toBe("test-led");
    expect(board.diagnostics.of("wiring", "warning")[0]?.message).toMatch(/GPIO2 is a strapping pin/);
    expect(() => wireBoard(makeBoard().board, { parts: [{ type: "test-led", id: "x", pin: 6 }] })).toThrow(/1 problem\(s\):\n  - x anode: GPIO6/);
  });

  it("warns when the firmware uses a pin the wiring leaves unconnected, and names the pins that are wired", () => {
    const { board } = makeBoard();
    wireBoard(board, { parts: [{ type: "test-led", id: "led", pin: 2 }] });
    new board.io.Digital({ pin: 2, mode: board.io.Digital.Output });
    expect(board.diagnostics.of("firmware", "warning")).toEqual([]);
    new board.io.Digital({ pin: 4, mode: board.io.Digital.InputPullUp });
    new board.io.PWM({ pin: 18, hz: 50 });
    expect(board.diagnostics.of("firmware", "warning").map((entry) => entry.message)).toEqual([
      "the firmware uses GPIO4 as a digital input, but nothing is wired to it (wired: GPIO2 led anode) — check the pin number against the wiring",
      "the firmware uses GPIO18 as a PWM output, but nothing is wired to it (wired: GPIO2 led anode) — check the pin number against the wiring",
    ]);
  });
});
