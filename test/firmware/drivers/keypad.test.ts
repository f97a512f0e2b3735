import { describe, expect, it } from "vitest";
import { Keypad, type KeyEventType } from "../../../firmware/drivers/keypad.ts";
import { VirtualBoard, wireBoard } from "../../../host-tools/board/index.ts";
import type { Keypad4x4 } from "../../../host-tools/board/parts/keypad-4x4.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

const ROWS = [13, 14, 27, 26];
const COLUMNS = [25, 33, 32, 23];

function setup(bounceMs = 5) {
  const clock = new VirtualClock();
  const board = new VirtualBoard({ clock, seed: 7 });
  wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS, bounceMs }] });
  const part = board.part<Keypad4x4>("keypad");
  const events: string[] = [];
  const keypad = new Keypad({
    io: board.io.Digital,
    rows: ROWS,
    columns: COLUMNS,
    clock,
    onKey: (type: KeyEventType, key: string) => events.push(`${type} ${key}`),
  });
  return { clock, board, part, keypad, events };
}

describe("keypad driver on the switch-matrix model", () => {
  it("reports one press and one release per tap despite contact bounce", async () => {
    const { clock, part, events } = setup(5);
    part.press("5");
    await clock.advance(100);
    part.release("5");
    await clock.advance(100);
    expect(events).toEqual(["press 5", "release 5"]);
  });

  it("sees every key of the 4x4 legend at its row and column", async () => {
    const { clock, part, events } = setup(0);
    for (const key of "123A456B789C*0#D") {
      part.press(key);
      await clock.advance(30);
      part.release(key);
      await clock.advance(30);
    }
    expect(events.filter((e) => e.startsWith("press")).map((e) => e.slice(6)).join("")).toBe("123A456B789C*0#D");
  });

  it("sends hold after 500 ms", async () => {
    const { clock, part, events } = setup();
    part.press("#");
    await clock.advance(600);
    expect(events).toEqual(["press #", "hold #"]);
  });

  it("handles two keys at once (2-key rollover), even in one row, without a short", async () => {
    const { clock, part, events, board } = setup();
    part.press("4");
    await clock.advance(30);
    part.press("6");
    await clock.advance(30);
    part.release("4");
    await clock.advance(30);
    expect(events).toEqual(["press 4", "press 6", "release 4"]);
    expect(board.diagnostics.of("board", "error")).toEqual([]);
  });

  it("ignores the ghost of three keys on a rectangle instead of reporting a fourth", async () => {
    const { clock, part, events } = setup(0);
    part.press("1");
    part.press("2");
    await clock.advance(30);
    part.press("4"); // 1, 2, 4 pressed: 5 reads pressed too (no diodes)
    await clock.advance(60);
    expect(events).toEqual(["press 1", "press 2"]);
  });

  it("the model itself shows the ghost: with 1, 2, 4 pressed, key 5 conducts", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS, bounceMs: 0 }] });
    const part = board.part<Keypad4x4>("keypad");
    const { Digital } = board.io;
    const row2 = new Digital({ pin: ROWS[1]!, mode: Digital.InputPullUp });
    const column2 = new Digital({ pin: COLUMNS[1]!, mode: Digital.OutputOpenDrain });
    for (const pin of [COLUMNS[0]!, COLUMNS[2]!, COLUMNS[3]!]) new Digital({ pin, mode: Digital.OutputOpenDrain }).write(1);
    column2.write(0);
    expect(row2.read()).toBe(1);
    part.press("1");
    part.press("2");
    part.press("4");
    expect(row2.read()).toBe(0); // key 5 (row 2, column 2) reads pressed
  });

  it("warns, naming the pin, when rows are opened without pull-ups", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS }] });
    const row = new board.io.Digital({ pin: 13, mode: board.io.Digital.Input });
    row.read();
    expect(board.diagnostics.of(undefined, "warning").map((d) => d.message).join()).toMatch(/GPIO13 is floating.*keypad.*InputPullUp/);
  });

  it("releases its eight pins on close", () => {
    const { keypad, board } = setup();
    keypad.close();
    expect(() => new board.io.Digital({ pin: 13, mode: board.io.Digital.Input }).close()).not.toThrow();
  });
});

describe("keypad driver: wiring mistakes name the keypad, the pin and the fix", () => {
  function board() {
    const clock = new VirtualClock();
    return { clock, board: new VirtualBoard({ clock }) };
  }

  it("refuses one GPIO listed for two keypad wires", () => {
    const { clock, board: b } = board();
    expect(() => new Keypad({ io: b.io.Digital, rows: [13, 14, 27, 26], columns: [25, 33, 13, 23], clock })).toThrow(
      /keypad column 3 and row 1 both name GPIO13 — each of the 8 keypad wires needs its own pin/,
    );
  });

  it("refuses a pin another part holds, and releases the pins it had opened", () => {
    const { clock, board: b } = board();
    const other = new b.io.Digital({ pin: 33, mode: b.io.Digital.Output });
    expect(() => new Keypad({ io: b.io.Digital, rows: ROWS, columns: COLUMNS, clock })).toThrow(
      /keypad column 2 on GPIO33 cannot be opened: .*GPIO33 is already in use.*pick another pin/,
    );
    other.close();
    // Rows and column 1 were released: a corrected keypad opens.
    expect(() => new Keypad({ io: b.io.Digital, rows: ROWS, columns: COLUMNS, clock }).close()).not.toThrow();
  });

  it("refuses a pin the ESP32 cannot use for a column, naming it", () => {
    const { clock, board: b } = board();
    expect(() => new Keypad({ io: b.io.Digital, rows: ROWS, columns: [25, 33, 32, 34], clock })).toThrow(
      /keypad column 4 on GPIO34 cannot be opened: .*input-only/,
    );
    expect(() => new Keypad({ io: b.io.Digital, rows: [13, 14, 27], columns: COLUMNS, clock })).toThrow(/4 row pins and 4 column pins/);
  });
});
