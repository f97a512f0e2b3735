import { UsageError } from "../core/errors.ts";
import type { Clock, TimerHandle } from "../ports/clock.ts";
import type { DigitalConstructor, DigitalInstance } from "../ports/io.ts";

export type KeyEventType = "press" | "release" | "hold";
export type KeyListener = (type: KeyEventType, key: string) => void;

export interface KeypadOptions {
  io: DigitalConstructor;
  rows: number[];
  columns: number[];
  clock: Clock;
  labels?: string[];
  /** A key must read the same for this long before it counts (contacts bounce for a few ms). */
  debounceMs?: number;
  /** Held this long, a key sends "hold" once. */
  holdMs?: number;
  scanMs?: number;
  onKey?: KeyListener;
}

/**
 * After a column is released, a row its key held low rises through the pull-up in a few µs (R·C: 45 kΩ and the
 * wires' capacitance). Read before that, the next column would see the key too; so such rows are read again until
 * high, at most this many times (a row still low then is held by something else, and the scan goes on).
 */
const SETTLE_READS = 32;

const LABELS = Object.freeze(["1", "2", "3", "A", "4", "5", "6", "B", "7", "8", "9", "C", "*", "0", "#", "D"]);

interface KeyState {
  stable: boolean;
  raw: boolean;
  rawSince: number;
  pressedAt: number;
  held: boolean;
}

/**
 * A 4x4 matrix keypad. Rows are inputs with pull-ups; one column at a time is pulled low (open drain, so two keys
 * in one row never short two driven columns). Keys are debounced, report press / release / hold, and two keys at
 * once work (2-key rollover). Three keys on the corners of a rectangle make a fourth read pressed without diodes:
 * such scans are ambiguous and are ignored rather than reporting a key nobody pressed.
 */
export class Keypad {
  readonly #rows: DigitalInstance[];
  readonly #columns: DigitalInstance[];
  readonly #labels: readonly string[];
  readonly #clock: Clock;
  readonly #debounceMs: number;
  readonly #holdMs: number;
  readonly #keys: KeyState[];
  readonly #listeners = new Set<KeyListener>();
  #timer: TimerHandle | undefined;

  constructor(options: KeypadOptions) {
    const { io, rows, columns } = options;
    if (rows?.length !== 4 || columns?.length !== 4) {
      throw new UsageError("KEYPAD_PINS", `keypad: a 4x4 keypad needs 4 row pins and 4 column pins, got rows ${String(rows)} and columns ${String(columns)}`);
    }
    const seen = new Map<number, string>();
    rows.forEach((pin, i) => checkPin(seen, pin, `row ${i + 1}`));
    columns.forEach((pin, i) => checkPin(seen, pin, `column ${i + 1}`));
    this.#labels = options.labels ?? LABELS;
    this.#clock = options.clock;
    this.#debounceMs = options.debounceMs ?? 10;
    this.#holdMs = options.holdMs ?? 500;
    const opened: DigitalInstance[] = [];
    const open = (pin: number, mode: number, role: string) => {
      try {
        const instance = new io({ pin, mode });
        opened.push(instance);
        return instance;
      } catch (error) {
        for (const instance of opened) instance.close();
        const reason = error instanceof Error ? error.message : String(error);
        throw new UsageError("KEYPAD_PINS", `keypad ${role} on GPIO${pin} cannot be opened: ${reason}`, { cause: error });
      }
    };
    this.#rows = rows.map((pin, i) => open(pin, io.InputPullUp, `row ${i + 1}`));
    this.#columns = columns.map((pin, i) => open(pin, io.OutputOpenDrain, `column ${i + 1}`));
    for (const column of this.#columns) column.write(1);
    this.#keys = this.#labels.map(() => ({ stable: false, raw: false, rawSince: 0, pressedAt: 0, held: false }));
    if (options.onKey) this.#listeners.add(options.onKey);
    this.#timer = this.#clock.setInterval(() => this.scan(), options.scanMs ?? 5);
  }

  onKey(listener: KeyListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Keys currently held down (debounced). */
  get pressed(): string[] {
    return this.#labels.filter((_, index) => this.#keys[index]!.stable);
  }

  /** One pass over the matrix; runs by itself every scanMs. */
  scan(): void {
    const raw: boolean[] = new Array(16).fill(false);
    this.#columns.forEach((column, c) => {
      column.write(0);
      this.#rows.forEach((row, r) => {
        raw[r * 4 + c] = row.read() === 0;
      });
      column.write(1);
      this.#rows.forEach((row, r) => {
        for (let tries = 0; raw[r * 4 + c] && tries < SETTLE_READS && row.read() === 0; tries++);
      });
    });
    if (ghosting(raw)) return;
    const now = this.#clock.now();
    raw.forEach((down, index) => {
      const key = this.#keys[index]!;
      if (down !== key.raw) {
        key.raw = down;
        key.rawSince = now;
      }
      if (key.raw !== key.stable && now - key.rawSince >= this.#debounceMs) {
        key.stable = key.raw;
        if (key.stable) {
          key.pressedAt = now;
          key.held = false;
          this.#emit("press", index);
        } else this.#emit("release", index);
      }
      if (key.stable && !key.held && now - key.pressedAt >= this.#holdMs) {
        key.held = true;
        this.#emit("hold", index);
      }
    });
  }

  close(): void {
    this.#clock.clear(this.#timer);
    this.#timer = undefined;
    for (const pin of [...this.#rows, ...this.#columns]) pin.close();
    this.#listeners.clear();
  }

  #emit(type: KeyEventType, index: number): void {
    for (const listener of this.#listeners) listener(type, this.#labels[index]!);
  }
}

function checkPin(seen: Map<number, string>, pin: number, role: string): void {
  if (!Number.isInteger(pin) || pin < 0) throw new UsageError("KEYPAD_PINS", `keypad ${role}: "${String(pin)}" is not a GPIO number`);
  const other = seen.get(pin);
  if (other) throw new UsageError("KEYPAD_PINS", `keypad ${role} and ${other} both name GPIO${pin} — each of the 8 keypad wires needs its own pin`);
  seen.set(pin, role);
}

/** Three or more keys forming a rectangle's corners: the fourth corner cannot be told from a ghost. */
function ghosting(raw: boolean[]): boolean {
  for (let r1 = 0; r1 < 4; r1++) {
    for (let r2 = r1 + 1; r2 < 4; r2++) {
      let shared = 0;
      for (let c = 0; c < 4; c++) if (raw[r1 * 4 + c] && raw[r2 * 4 + c]) shared++;
      if (shared >= 2) return true;
    }
  }
  return false;
}
