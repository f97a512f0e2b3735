import type { Part, VirtualBoard } from "../board.ts";
import { registerPartKind, type PartSpec } from "../description.ts";

/** The usual 4x4 membrane keypad legend, row by row. */
export const KEYPAD_LABELS = ["1", "2", "3", "A", "4", "5", "6", "B", "7", "8", "9", "C", "*", "0", "#", "D"];

interface Contact {
  /** Board time of the last press or release. */
  changedAt: number;
  pressed: boolean;
  /** While pressed: the first and last time the contact was read closed (settled), on the board clock. */
  readFrom?: number;
  readUntil?: number;
  reads: number;
}

/**
 * A 4x4 membrane keypad: 16 switches, each joining one row wire to one column wire, no diodes. The switches are
 * wired into the board's nets, so what the firmware reads follows from physics: a key is only seen while its column
 * is driven low and its row pulled up; three keys on the corners of a rectangle make the fourth read as pressed
 * (ghosting); two driven columns shorted through a row are reported. Contacts bounce for `bounceMs` after each press
 * and release (seeded chatter, ~0.3 ms per state). Each wire has `linePf` of capacitance (the ribbon's trace and a
 * jumper wire; 30 pF is an estimate, not a datasheet figure), so a row joined to a column just released takes a few
 * µs to rise through the ESP32's pull-up (see Nets): read too soon, a key shows up in the next column too.
 */
export class Keypad4x4 implements Part {
  readonly id: string;
  readonly type = "keypad-4x4";
  readonly rows: number[];
  readonly columns: number[];
  readonly labels: string[];
  readonly bounceMs: number;
  readonly #board: VirtualBoard;
  readonly #contacts = new Map<string, Contact>();
  readonly #seed: number;

  constructor(id: string, board: VirtualBoard, options: { rows: number[]; columns: number[]; labels?: string[]; bounceMs?: number; linePf?: number }) {
    this.id = id;
    this.#board = board;
    this.rows = options.rows;
    this.columns = options.columns;
    this.labels = options.labels ?? KEYPAD_LABELS;
    this.bounceMs = options.bounceMs ?? 5;
    this.#seed = Math.floor(board.random() * 0xffffffff);
    for (const pin of [...this.rows, ...this.columns]) board.nets.setCapacitance(pin, options.linePf ?? 30);
    this.labels.forEach((label, index) => {
      const row = this.rows[Math.floor(index / 4)]!;
      const column = this.columns[index % 4]!;
      this.#contacts.set(label, { changedAt: -Infinity, pressed: false, reads: 0 });
      board.nets.connect(id, `key ${label}`, row, column, (byFirmware) => this.#closed(label, index, byFirmware));
    });
  }

  press(label: string): void {
    this.#set(label, true);
  }

  release(label: string): void {
    this.#set(label, false);
  }

  /** Presses and, `holdMs` later on the board clock, releases. */
  tap(label: string, holdMs = 80): Promise<void> {
    this.press(label);
    return new Promise((resolve) => {
      this.#board.clock.setTimeout(() => {
        this.release(label);
        resolve();
      }, holdMs);
    });
  }

  /**
   * How often, and over how many ms, the firmware has read the pressed key closed since it went down (its scans read
   * each row once per column; edge watchers do not count): a press can be held until the firmware has seen it,
   * however late its scans run.
   */
  readsWhilePressed(label: string): { count: number; spanMs: number } {
    const contact = this.#contacts.get(label);
    if (contact?.readFrom === undefined) return { count: 0, spanMs: 0 };
    return { count: contact.reads, spanMs: contact.readUntil! - contact.readFrom };
  }

  get pressed(): string[] {
    return this.labels.filter((label) => this.#contacts.get(label)!.pressed);
  }

  snapshot() {
    return { pressed: this.pressed, labels: this.labels, rows: this.rows, columns: this.columns };
  }

  #set(label: string, pressed: boolean): void {
    const contact = this.#contacts.get(label);
    if (!contact) throw new Error(`${this.id} has no key "${label}" (keys: ${this.labels.join(" ")})`);
    if (contact.pressed === pressed) return;
    contact.pressed = pressed;
    contact.changedAt = this.#board.clock.now();
    contact.readFrom = contact.readUntil = undefined;
    contact.reads = 0;
    this.#board.nets.changed();
    // Let edge watchers see the chatter settle.
    if (this.bounceMs > 0) this.#board.clock.setTimeout(() => this.#board.nets.changed(), this.bounceMs);
  }

  /** Whether the contact conducts now: settled state, or chatter while it bounces. Only the firmware's reads count as seen. */
  #closed(label: string, index: number, byFirmware: boolean): boolean {
    const contact = this.#contacts.get(label)!;
    const since = this.#board.clock.now() - contact.changedAt;
    if (since >= this.bounceMs) {
      if (contact.pressed && byFirmware) {
        contact.readUntil = this.#board.clock.now();
        contact.readFrom ??= contact.readUntil;
        contact.reads++;
      }
      return contact.pressed;
    }
    const slot = Math.floor(since / 0.3);
    return hash(this.#seed ^ (index * 7919) ^ (slot * 104729) ^ Math.floor(contact.changedAt * 1000)) % 2 === 0;
  }
}

function hash(value: number): number {
  let x = value | 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

function pinList(spec: PartSpec, field: string): number[] | string {
  const value = spec[field];
  if (!Array.isArray(value) || value.length !== 4 || value.some((pin) => typeof pin !== "number")) {
    return `"${field}" must list the 4 GPIO numbers of the keypad's ${field}`;
  }
  return value as number[];
}

registerPartKind({
  type: "keypad-4x4",
  summary: "4x4 membrane keypad (switch matrix, no diodes)",
  check(spec) {
    const problems = [pinList(spec, "rows"), pinList(spec, "columns")].filter((r): r is string => typeof r === "string");
    if (spec.bounceMs !== undefined && (typeof spec.bounceMs !== "number" || spec.bounceMs < 0)) problems.push('"bounceMs" must be ≥ 0');
    if (spec.linePf !== undefined && (typeof spec.linePf !== "number" || !(spec.linePf >= 0))) problems.push('"linePf" (each wire\'s capacitance) must be ≥ 0 pF');
    if (spec.labels !== undefined && (!Array.isArray(spec.labels) || spec.labels.length !== 16)) problems.push('"labels" must list 16 key labels, row by row');
    return problems;
  },
  pins(spec) {
    return [
      ...(spec.rows as number[]).map((pin, i) => ({ pin, use: "pull-up" as const, role: `row ${i + 1}` })),
      ...(spec.columns as number[]).map((pin, i) => ({ pin, use: "output" as const, role: `column ${i + 1}` })),
    ];
  },
  create(spec, board) {
    return new Keypad4x4(spec.id, board, {
      rows: spec.rows as number[],
      columns: spec.columns as number[],
      labels: spec.labels as string[] | undefined,
      bounceMs: spec.bounceMs as number | undefined,
      linePf: spec.linePf as number | undefined,
    });
  },
});
