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

  it("a row joined to a column just released rises through the 45 kΩ pull-up in a few µs of pin calls", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS }] });
    board.part<Keypad4x4>("keypad").press("1"); // row 1, column 1
    const row1 = new board.io.Digital({ pin: 13, mode: board.io.Digital.InputPullUp });
    const column1 = new board.io.Digital({ pin: 25, mode: board.io.Digital.OutputOpenDrain });
    column1.write(0);
    expect(row1.read()).toBe(0);
    column1.write(1); // 60 pF (row and column) × 45 kΩ × ln 4 = 3.7 µs to reach V_IH; a pin call is 2 µs
    expect([row1.read(), row1.read(), row1.read()]).toEqual([0, 1, 1]);
    expect(board.diagnostics.entries).toEqual([]); // reading while it settles is no mistake by itself
  });

  it("on long wires, a driver that reads the next column's rows at once sees a key twice, and the board names why", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    // a panel keypad on a metre of ribbon: 100 pF a line. On the lab's 30 pF the same scan just makes it (4 µs ≥ 3.7 µs).
    wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS, linePf: 100 }] });
    board.part<Keypad4x4>("keypad").press("1");
    const rows = ROWS.map((pin) => new board.io.Digital({ pin, mode: board.io.Digital.InputPullUp }));
    const columns = COLUMNS.map((pin) => new board.io.Digital({ pin, mode: board.io.Digital.OutputOpenDrain }));
    for (const column of columns) column.write(1);
    const seen: string[] = [];
    const labels = ["1", "2", "3", "A", "4", "5", "6", "B", "7", "8", "9", "C", "*", "0", "#", "D"];
    columns.forEach((column, c) => { // the scan without the wait
      column.write(0);
      rows.forEach((row, r) => row.read() === 0 && seen.push(labels[r * 4 + c]!));
      column.write(1);
    });
    expect(seen).toEqual(["1", "2"]);
    expect(board.diagnostics.of("firmware", "error").map((d) => d.message)).toEqual([
      "GPIO13 was read 4.0 µs after GPIO25 released it, while GPIO33 drives low: through 200 pF and the 45 kΩ pull-up it needs 12.5 µs to read high, so it read low — a key of the previous column shows up in this one; after releasing a column, read the rows again until they are high",
    ]);
  });

  it("the driver waits for the rows after each column, so every key is seen once, in its own column, on long wires too", async () => {
    for (const linePf of [30, 300]) {
      const clock = new VirtualClock();
      const board = new VirtualBoard({ clock, seed: 7 });
      wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS, linePf }] });
      const part = board.part<Keypad4x4>("keypad");
      const events: string[] = [];
      new Keypad({ io: board.io.Digital, rows: ROWS, columns: COLUMNS, clock, onKey: (type, key) => type === "press" && events.push(key) });
      for (const key of part.labels) {
        part.press(key);
        await clock.advance(60);
        part.release(key);
        await clock.advance(60);
      }
      expect(events).toEqual(part.labels);
      expect(board.diagnostics.of(undefined, "error")).toEqual([]);
    }
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
