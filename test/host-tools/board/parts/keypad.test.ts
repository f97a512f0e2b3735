import { describe, expect, it } from "vitest";
import { VirtualBoard, checkDescription, wireBoard } from "../../../../host-tools/board/index.ts";
import type { Keypad4x4 } from "../../../../host-tools/board/parts/keypad-4x4.ts";
import { VirtualClock } from "../../../../host-tools/platform/virtual-clock.ts";

const ROWS = [13, 14, 27, 26];
const COLUMNS = [25, 33, 32, 23];

function setup(extra: Record<string, unknown> = {}, seed = 3) {
  const clock = new VirtualClock();
  const board = new VirtualBoard({ clock, seed });
  wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS, ...extra }] });
  const part = board.part<Keypad4x4>("keypad");
  const { Digital } = board.io;
  const rows = ROWS.map((pin) => new Digital({ pin, mode: Digital.InputPullUp }));
  const columns = COLUMNS.map((pin) => new Digital({ pin, mode: Digital.OutputOpenDrain }));
  for (const column of columns) column.write(1);
  return { clock, board, part, rows, columns };
}

describe("4x4 keypad model (switch matrix, no diodes)", () => {
  it("a pressed key joins its row to its column and nothing else", () => {
    const { part, rows, columns } = setup({ bounceMs: 0 });
    part.press("6"); // row 2, column 3
    columns[2]!.write(0);
    expect(rows.map((row) => row.read())).toEqual([1, 0, 1, 1]);
    columns[2]!.write(1);
    columns[1]!.write(0);
    expect(rows.map((row) => row.read())).toEqual([1, 1, 1, 1]);
    part.release("6");
    columns[1]!.write(1);
    columns[2]!.write(0);
    expect(rows[1]!.read()).toBe(1);
  });

  it("chatters for the bounce time after a press and a release, then settles", async () => {
    const { clock, part, rows, columns } = setup({ bounceMs: 5 });
    columns[0]!.write(0);
    part.press("1");
    const samples: number[] = [];
    for (let t = 0; t < 5; t += 0.25) {
      samples.push(rows[0]!.read());
      await clock.advance(0.25);
    }
    expect(samples).toContain(0);
    expect(samples).toContain(1); // not a clean edge: the contact bounced
    await clock.advance(1);
    for (let i = 0; i < 10; i++) expect(rows[0]!.read()).toBe(0);
    part.release("1");
    const after: number[] = [];
    for (let t = 0; t < 5; t += 0.25) {
      after.push(rows[0]!.read());
      await clock.advance(0.25);
    }
    expect(new Set(after).size).toBe(2);
    await clock.advance(1);
    expect(rows[0]!.read()).toBe(1);
  });

  it("counts as seen only the firmware's reads of a pressed key, not its edge watchers' looks at the rows", async () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock, seed: 3 });
    wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS, bounceMs: 0 }] });
    const part = board.part<Keypad4x4>("keypad");
    const { Digital } = board.io;
    const rows = ROWS.map((pin) => new Digital({ pin, mode: Digital.InputPullUp, edge: Digital.Falling, onReadable: () => undefined }));
    const column = new Digital({ pin: COLUMNS[1]!, mode: Digital.OutputOpenDrain });
    part.press("5"); // row 2, column 2
    for (let i = 0; i < 20; i++) {
      column.write((i % 2) as 0 | 1); // each write makes the watchers look at every row
      await clock.advance(2);
    }
    expect(part.readsWhilePressed("5").count).toBe(0);
    column.write(0);
    expect(rows[1]!.read()).toBe(0);
    await clock.advance(30);
    expect(rows[1]!.read()).toBe(0);
    expect(part.readsWhilePressed("5")).toEqual({ count: 2, spanMs: 30 });
  });

  it("bounce 0 gives clean edges", () => {
    const { part, rows, columns } = setup({ bounceMs: 0 });
    columns[3]!.write(0);
    part.press("D");
    expect(rows[3]!.read()).toBe(0);
  });

  it("three keys on a rectangle's corners make the fourth read pressed (from the nets, not a rule)", () => {
    const { part, rows, columns } = setup({ bounceMs: 0 });
    part.press("2"); // r1 c2
    part.press("3"); // r1 c3
    part.press("6"); // r2 c3
    columns[1]!.write(0); // scan column 2: key 5 (r2 c2) is not pressed
    expect(rows[1]!.read()).toBe(0); // …but row 2 reads low through 6 → c3 → 3 → r1 → 2 → c2
    part.release("3");
    expect(rows[1]!.read()).toBe(1); // two keys alone do not ghost
  });

  it("tap presses and releases on the board clock", async () => {
    const { clock, part } = setup({ bounceMs: 0 });
    const tap = part.tap("#", 120);
    expect(part.pressed).toEqual(["#"]);
    await clock.advance(119);
    expect(part.pressed).toEqual(["#"]);
    await clock.advance(1);
    await tap;
    expect(part.pressed).toEqual([]);
  });

  it("takes a custom legend and refuses an unknown key, listing the keys", () => {
    const labels = "abcdefghijklmnop".split("");
    const { part, rows, columns } = setup({ bounceMs: 0, labels });
    part.press("g"); // row 2, column 3
    columns[2]!.write(0);
    expect(rows[1]!.read()).toBe(0);
    expect(() => part.press("1")).toThrow(/keypad has no key "1" \(keys: a b c/);
  });

  it("two driven-high columns shorted through one row are reported", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS, bounceMs: 0 }] });
    const part = board.part<Keypad4x4>("keypad");
    const { Digital } = board.io;
    const row = new Digital({ pin: ROWS[0]!, mode: Digital.InputPullUp });
    const c1 = new Digital({ pin: COLUMNS[0]!, mode: Digital.Output });
    const c2 = new Digital({ pin: COLUMNS[1]!, mode: Digital.Output });
    c1.write(0);
    c2.write(1); // push-pull columns: the classic mistake
    part.press("1");
    part.press("2");
    row.read();
    expect(board.diagnostics.of("board", "error").map((d) => d.message).join()).toMatch(/short circuit.*GPIO(25|33).*GPIO(25|33)/);
  });

  it("rows without pull-ups float, and the warning names the pin, the keypad and the fix", () => {
    const clock = new VirtualClock();
    const board = new VirtualBoard({ clock });
    wireBoard(board, { parts: [{ type: "keypad-4x4", id: "keypad", rows: ROWS, columns: COLUMNS }] });
    new board.io.Digital({ pin: 14, mode: board.io.Digital.Input }).read();
    const message = board.diagnostics.of(undefined, "warning").map((d) => d.message).join();
    expect(message).toMatch(/GPIO14 is floating/);
    expect(message).toMatch(/keypad/);
    expect(message).toMatch(/InputPullUp/);
  });

  it("checks its description: four rows, four columns, 16 labels, bounce ≥ 0", () => {
    const problems = JSON.stringify(
      checkDescription({ parts: [{ type: "keypad-4x4", id: "keypad", rows: [13, 14, 27], columns: COLUMNS, labels: ["1"], bounceMs: -1 }] }),
    );
    expect(problems).toMatch(/rows.*4 GPIO/);
    expect(problems).toMatch(/16 key labels/);
    expect(problems).toMatch(/bounceMs/);
  });
});
