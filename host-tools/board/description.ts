import { pinProblem, pinWarning, type PinUse } from "./esp32-pins.ts";
import type { Part, VirtualBoard } from "./board.ts";
import { WiringError } from "./wiring-error.ts";

/** One part in a board description: its kind, an id (defaults to the kind), and the kind's own wiring fields. */
export interface PartSpec {
  type: string;
  id?: string;
  [field: string]: unknown;
}

/** A board's wiring, as data: what a student would draw. JSON or YAML on disk. */
export interface BoardDescription {
  /** Board name, for messages. */
  name?: string;
  /** The I2C bus the I2C parts hang on. */
  i2c?: { sda: number; scl: number };
  parts: PartSpec[];
}

/** A pin a part occupies and what the ESP32 must be able to do with it. */
export interface PinRole {
  pin: number;
  use: PinUse;
  role: string;
}

/** How to check and build one kind of part. Each part model registers one (see parts/index.ts). */
export interface PartKind {
  type: string;
  summary: string;
  /** Checks the spec's own fields; returns problems (each names the field and the fix). */
  check(spec: PartSpec): string[];
  pins(spec: PartSpec, description: BoardDescription): PinRole[];
  create(spec: PartSpec & { id: string }, board: VirtualBoard, description: BoardDescription): Part;
}

const kinds = new Map<string, PartKind>();

export function registerPartKind(kind: PartKind): void {
  kinds.set(kind.type, kind);
}

export function partKinds(): PartKind[] {
  return [...kinds.values()];
}

/** The result of checking a description: errors stop the build; warnings are worth a look. */
export interface WiringReport {
  errors: string[];
  warnings: string[];
}

/** Checks a description without building it: unknown kinds, bad pins, pins used twice, I2C pins misused. */
export function checkDescription(description: BoardDescription): WiringReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  const owners = new Map<number, { who: string; how: PinUse }>();
  const use = (pin: number, who: string, how: PinUse) => {
    const problem = pinProblem(pin, how);
    if (problem) errors.push(`${who}: ${problem}`);
    const warning = pinWarning(pin, how);
    if (warning && !problem) warnings.push(`${who}: ${warning}`);
    const previous = owners.get(pin);
    // I2C parts share the bus's two pins; every other pin serves one part.
    if (previous && !(previous.how === "i2c" && how === "i2c")) {
      errors.push(`${who}: GPIO${pin} is already used by ${previous.who} — each pin can serve one part; move one of them`);
    } else if (!previous) owners.set(pin, { who, how });
  };
  if (description.i2c) {
    use(description.i2c.sda, "I2C SDA", "i2c");
    use(description.i2c.scl, "I2C SCL", "i2c");
  }
  const ids = new Set<string>();
  for (const spec of description.parts ?? []) {
    const id = spec.id ?? spec.type;
    if (ids.has(id)) errors.push(`two parts have the id "${id}" — give each an "id"`);
    ids.add(id);
    const kind = kinds.get(spec.type);
    if (!kind) {
      errors.push(`${id}: unknown part type "${spec.type}" (known: ${[...kinds.keys()].join(", ")})`);
      continue;
    }
    const problems = kind.check(spec);
    for (const problem of problems) errors.push(`${id}: ${problem}`);
    if (problems.length) continue;
    for (const role of kind.pins(spec, description)) use(role.pin, `${id} ${role.role}`, role.use);
  }
  return { errors, warnings };
}

/** Builds the parts of a description onto a board; throws a WiringError listing every problem. */
export function wireBoard(board: VirtualBoard, description: BoardDescription): void {
  const report = checkDescription(description);
  if (report.errors.length) {
    throw new WiringError(
      "WIRING",
      `the wiring${description.name ? ` of ${description.name}` : ""} has ${report.errors.length} problem(s):\n  - ${report.errors.join("\n  - ")}`,
    );
  }
  for (const warning of report.warnings) board.diagnostics.report("wiring", "warning", warning);
  if (description.i2c) {
    board.markWired(description.i2c.sda, "I2C SDA");
    board.markWired(description.i2c.scl, "I2C SCL");
  }
  for (const spec of description.parts) {
    const kind = kinds.get(spec.type)!;
    for (const role of kind.pins(spec, description)) board.markWired(role.pin, `${spec.id ?? spec.type} ${role.role}`);
    board.addPart(kind.create({ ...spec, id: spec.id ?? spec.type }, board, description));
  }
}
