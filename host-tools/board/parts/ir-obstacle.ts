import type { Part, VirtualBoard } from "../board.ts";
import { registerPartKind } from "../description.ts";

/**
 * An FC-51 / TCRT5000 obstacle module: an IR LED and photodiode into an LM393 comparator. Its output pin is LOW
 * while an obstacle is within range (set by the trim pot, 20 cm here by default) — `activeLow: false` for the
 * inverted batches. The on-board LED mirrors the output.
 */
export class IrObstacle implements Part {
  readonly id: string;
  readonly type = "ir-obstacle";
  readonly pin: number;
  readonly activeLow: boolean;
  readonly rangeCm: number;
  readonly #board: VirtualBoard;
  #obstacle = false;
  #distanceCm: number | undefined;

  constructor(id: string, board: VirtualBoard, options: { pin: number; activeLow?: boolean; rangeCm?: number }) {
    this.id = id;
    this.#board = board;
    this.pin = options.pin;
    this.activeLow = options.activeLow ?? true;
    this.rangeCm = options.rangeCm ?? 20;
    board.nets.drive(this.pin, id, () => (this.#obstacle === this.activeLow ? 0 : 1));
  }

  setObstacle(present: boolean): void {
    if (present === this.#obstacle) return;
    this.#obstacle = present;
    this.#board.nets.changed();
  }

  /** Something at this distance: an obstacle when within the module's range. */
  setDistanceCm(cm: number): void {
    this.#distanceCm = cm;
    this.setObstacle(cm <= this.rangeCm);
  }

  get obstacle(): boolean {
    return this.#obstacle;
  }

  snapshot() {
    return { obstacle: this.#obstacle, led: this.#obstacle, output: this.#obstacle === this.activeLow ? 0 : 1, distanceCm: this.#distanceCm, rangeCm: this.rangeCm };
  }
}

registerPartKind({
  type: "ir-obstacle",
  summary: "FC-51 / TCRT5000 IR obstacle module (digital, active low)",
  check(spec) {
    const problems: string[] = [];
    if (typeof spec.pin !== "number") problems.push('"pin" must be the GPIO number of the module\'s OUT pin');
    if (spec.activeLow !== undefined && typeof spec.activeLow !== "boolean") problems.push('"activeLow" is true or false');
    if (spec.rangeCm !== undefined && (typeof spec.rangeCm !== "number" || spec.rangeCm < 2 || spec.rangeCm > 30)) problems.push('"rangeCm" is the trim-pot range, 2–30 cm');
    return problems;
  },
  pins: (spec) => [{ pin: spec.pin as number, use: "input", role: "OUT" }],
  create: (spec, board) =>
    new IrObstacle(spec.id, board, { pin: spec.pin as number, activeLow: spec.activeLow as boolean | undefined, rangeCm: spec.rangeCm as number | undefined }),
});
