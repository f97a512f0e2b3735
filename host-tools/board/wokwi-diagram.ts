import type { BoardDescription, PartSpec } from "./description.ts";
import { WiringError } from "./wiring-error.ts";

/**
 * Wokwi's diagram.json (https://docs.wokwi.com/diagram-format) to and from esplab's board description, for the parts
 * esplab models: the LCD1602 in its I2C configuration, the 4x4 membrane keypad and the servo, on an ESP32 DevKit.
 * Wokwi has no FC-51 or Sharp GP2Y0A21 part, so those two are esplab's own part types ("esplab-fc51",
 * "esplab-gp2y0a21"); Wokwi shows them as unknown parts, and esplab reads them back.
 */

interface WokwiPart {
  type: string;
  id: string;
  top?: number;
  left?: number;
  rotate?: number;
  attrs?: Record<string, unknown>;
}

/** [from "part:pin", to "part:pin", colour, route]. */
type WokwiConnection = [string, string, string?, unknown[]?];

export interface WokwiDiagram {
  version: number;
  author?: string;
  editor?: string;
  parts: WokwiPart[];
  connections: WokwiConnection[];
  dependencies?: Record<string, unknown>;
}

/** Pin names of the ESP32 boards Wokwi offers, to GPIO numbers (each board's board.json in wokwi-boards). */
const BOARDS = new Map<string, (pin: string) => number | undefined>([
  // Header labels are the GPIO numbers; VP and VN are the sensor pins GPIO36 and GPIO39 as Espressif's DevKitC
  // pin list names them (Wokwi's board.json lists them the other way round).
  ["board-esp32-devkit-c-v4", (pin) => (/^\d{1,2}$/.test(pin) ? Number(pin) : named(pin, { VP: 36, VN: 39, TX: 1, RX: 3, CLK: 6, D0: 7, D1: 8, D2: 9, D3: 10, CMD: 11 }))],
  ["wokwi-esp32-devkit-v1", (pin) => (/^D\d{1,2}$/.test(pin) ? Number(pin.slice(1)) : named(pin, { VP: 36, VN: 39, TX0: 1, RX0: 3, TX2: 17, RX2: 16 }))],
]);

/** A board's named pin (not a name every object has, like "constructor"). */
function named(pin: string, pins: Record<string, number>): number | undefined {
  return Object.hasOwn(pins, pin) ? pins[pin] : undefined;
}
const DEFAULT_BOARD = "board-esp32-devkit-c-v4";

/** How each modelled part's pins map to esplab's part types. */
const LCD = "wokwi-lcd1602";
const KEYPAD = "wokwi-membrane-keypad";
const SERVO = "wokwi-servo";
const FC51 = "esplab-fc51";
const SHARP = "esplab-gp2y0a21";
/** Wokwi parts that carry no signal esplab needs: read without a warning. */
const PASSIVE = /^wokwi-(breadboard|resistor|capacitor)/;

/** Reads a diagram; `file` names it in errors. Returns the description and what was left out, as warnings. */
export function fromWokwiDiagram(input: unknown, file = "diagram.json"): { description: BoardDescription; warnings: string[] } {
  const fail = (problem: string): never => {
    throw new WiringError("WOKWI", `${file}: ${problem}`);
  };
  if (!input || typeof input !== "object" || Array.isArray(input)) fail("a Wokwi diagram is a JSON object with \"parts\" and \"connections\"");
  const diagram = input as Partial<WokwiDiagram>;
  if (!Array.isArray(diagram.parts)) fail('"parts" must be a list of parts');
  if (diagram.connections !== undefined && !Array.isArray(diagram.connections)) fail('"connections" must be a list of [from, to, colour, route]');
  const parts = diagram.parts!;
  parts.forEach((part, index) => {
    if (!part || typeof part !== "object" || typeof part.type !== "string" || typeof part.id !== "string") fail(`part ${index + 1} needs a "type" and an "id" (strings)`);
  });

  const boards = parts.filter((part) => BOARDS.has(part.type));
  if (boards.length !== 1) {
    const chips = parts.filter((part) => /esp32|board-/.test(part.type)).map((part) => `${part.id} (${part.type})`);
    fail(
      boards.length === 0
        ? `no ESP32 board esplab models (${[...BOARDS.keys()].join(" or ")})${chips.length ? `: ${chips.join(", ")} is another chip or board` : ""}`
        : `${boards.length} ESP32 boards (${boards.map((b) => b.id).join(", ")}): esplab models one board`,
    );
  }
  const board = boards[0]!;
  const gpioOf = BOARDS.get(board.type)!;

  // Wires join pins into nets; each net reaches at most one GPIO.
  const nets = new NetSet();
  (diagram.connections ?? []).forEach((connection, index) => {
    if (!Array.isArray(connection) || typeof connection[0] !== "string" || typeof connection[1] !== "string") {
      fail(`connection ${index + 1} must be ["part:pin", "part:pin", colour, route]`);
    }
    nets.join(connection[0], connection[1]);
  });
  const gpioOfNet = (endpoint: string): number | undefined => {
    const gpios = new Set<number>();
    for (const member of nets.members(endpoint)) {
      const [id, pin] = splitEndpoint(member);
      if (id !== board.id || pin === undefined) continue;
      const gpio = gpioOf(pin);
      if (gpio !== undefined) gpios.add(gpio);
    }
    if (gpios.size > 1) fail(`${endpoint} is wired to ${[...gpios].map((g) => `GPIO${g}`).join(" and ")} at once: those pins are shorted together`);
    return gpios.values().next().value;
  };
  const pinOf = (part: WokwiPart, pin: string): number => {
    const gpio = gpioOfNet(`${part.id}:${pin}`);
    if (gpio === undefined) fail(`${part.id}:${pin} is not wired to a GPIO of ${board.id}: add a wire from it to an ESP32 pin`);
    return gpio!;
  };

  const description: BoardDescription = { name: typeof diagram.author === "string" && diagram.author ? `${diagram.author}'s Wokwi board` : "Wokwi board", parts: [] };
  const warnings: string[] = [];
  const used = new Set<string>();
  const idFor = (preferred: string, part: WokwiPart) => {
    const id = used.has(preferred) ? part.id : preferred;
    used.add(id);
    return id;
  };
  for (const part of parts) {
    if (part === board) continue;
    const attrs = part.attrs && typeof part.attrs === "object" ? part.attrs : {};
    let spec: PartSpec | undefined;
    switch (part.type) {
      case LCD: {
        if (attrs.pins !== "i2c") fail(`${part.id} is an LCD1602 in Wokwi's parallel configuration: esplab models the I2C backpack — set "attrs": { "pins": "i2c" }`);
        const address = attrs.i2cAddress === undefined ? 0x27 : Number(attrs.i2cAddress);
        if (!Number.isInteger(address)) fail(`${part.id}: i2cAddress must be a number like "0x27", got ${JSON.stringify(attrs.i2cAddress)}`);
        const bus = { sda: pinOf(part, "SDA"), scl: pinOf(part, "SCL") };
        if (description.i2c && (description.i2c.sda !== bus.sda || description.i2c.scl !== bus.scl)) {
          fail(`${part.id} is on SDA GPIO${bus.sda}/SCL GPIO${bus.scl}, another I2C part on GPIO${description.i2c.sda}/GPIO${description.i2c.scl}: esplab models one I2C bus`);
        }
        description.i2c = bus;
        spec = { type: "lcd1602-i2c", id: idFor("lcd", part), address };
        break;
      }
      case KEYPAD:
        if (attrs.columns !== undefined && String(attrs.columns) !== "4") fail(`${part.id} is a keypad with ${String(attrs.columns)} columns: esplab models the 4x4 keypad`);
        spec = {
          type: "keypad-4x4",
          id: idFor("keypad", part),
          rows: [1, 2, 3, 4].map((n) => pinOf(part, `R${n}`)),
          columns: [1, 2, 3, 4].map((n) => pinOf(part, `C${n}`)),
        };
        break;
      case SERVO:
        spec = { type: "servo-sg90", id: idFor("servo", part), pin: pinOf(part, "PWM") };
        break;
      case FC51:
        spec = { type: "ir-obstacle", id: idFor("ir", part), pin: pinOf(part, "OUT") };
        break;
      case SHARP:
        spec = { type: "ir-gp2y0a21", id: idFor("distance", part), pin: pinOf(part, "VO") };
        break;
      default:
        if (!PASSIVE.test(part.type)) warnings.push(`${part.id} (${part.type}) is left out: esplab does not model it`);
    }
    if (spec) description.parts.push(spec);
  }
  return { description, warnings };
}

/** Layout of each part on Wokwi's canvas, beside the board (top, left), and its wires' colours. */
const PLACES: Record<string, { top: number; left: number }> = {
  "lcd1602-i2c": { top: -150, left: 150 },
  "keypad-4x4": { top: -40, left: 380 },
  "servo-sg90": { top: 200, left: 180 },
  "ir-obstacle": { top: 60, left: -200 },
  "ir-gp2y0a21": { top: 180, left: -200 },
};

/** Writes a description as a Wokwi diagram (DevKit C v4), with power and ground wires, so it opens in Wokwi. */
export function toWokwiDiagram(description: BoardDescription): WokwiDiagram {
  const esp = "esp";
  const parts: WokwiPart[] = [{ type: DEFAULT_BOARD, id: esp, top: 0, left: 0, attrs: {} }];
  const connections: WokwiConnection[] = [
    [`${esp}:TX`, "$serialMonitor:RX", "", []],
    [`${esp}:RX`, "$serialMonitor:TX", "", []],
  ];
  const wire = (from: string, gpio: number | string, colour: string) => connections.push([from, `${esp}:${gpio}`, colour, []]);
  const power = (id: string, vcc: string, gnd: string, volts: "5V" | "3V3") => {
    connections.push([`${id}:${vcc}`, `${esp}:${volts}`, "red", []], [`${id}:${gnd}`, `${esp}:GND.1`, "black", []]);
  };
  const pinName = (gpio: number) => ({ 36: "VP", 39: "VN", 1: "TX", 3: "RX" } as Record<number, string>)[gpio] ?? String(gpio);
  const count = new Map<string, number>();
  for (const spec of description.parts) {
    const id = spec.id ?? spec.type;
    const seen = count.get(spec.type) ?? 0;
    count.set(spec.type, seen + 1);
    const place = Object.hasOwn(PLACES, spec.type) ? PLACES[spec.type]! : { top: 300, left: 0 };
    const at = { top: place.top + seen * 60, left: place.left + seen * 40 };
    switch (spec.type) {
      case "lcd1602-i2c": {
        const address = Number(spec.address ?? 0x27);
        parts.push({ type: LCD, id, ...at, attrs: { pins: "i2c", ...(address !== 0x27 ? { i2cAddress: `0x${address.toString(16)}` } : {}) } });
        if (description.i2c) {
          wire(`${id}:SDA`, pinName(description.i2c.sda), "green");
          wire(`${id}:SCL`, pinName(description.i2c.scl), "blue");
        }
        power(id, "VCC", "GND", "5V");
        break;
      }
      case "keypad-4x4":
        parts.push({ type: KEYPAD, id, ...at, attrs: {} });
        (spec.rows as number[]).forEach((gpio, i) => wire(`${id}:R${i + 1}`, pinName(gpio), "orange"));
        (spec.columns as number[]).forEach((gpio, i) => wire(`${id}:C${i + 1}`, pinName(gpio), "purple"));
        break;
      case "servo-sg90":
        parts.push({ type: SERVO, id, ...at, attrs: {} });
        wire(`${id}:PWM`, pinName(spec.pin as number), "orange");
        power(id, "V+", "GND", "5V");
        break;
      case "ir-obstacle":
        parts.push({ type: FC51, id, ...at, attrs: {} });
        wire(`${id}:OUT`, pinName(spec.pin as number), "yellow");
        power(id, "VCC", "GND", "3V3");
        break;
      case "ir-gp2y0a21":
        parts.push({ type: SHARP, id, ...at, attrs: {} });
        wire(`${id}:VO`, pinName(spec.pin as number), "yellow");
        power(id, "VCC", "GND", "5V");
        break;
      default:
        throw new WiringError("WOKWI", `${id}: esplab cannot write a ${spec.type} into a Wokwi diagram`);
    }
  }
  return { version: 1, author: description.name ?? "esplab", editor: "wokwi", parts, connections, dependencies: {} };
}

function splitEndpoint(endpoint: string): [string, string | undefined] {
  const colon = endpoint.indexOf(":");
  return colon < 0 ? [endpoint, undefined] : [endpoint.slice(0, colon), endpoint.slice(colon + 1)];
}

/** Union-find over "part:pin" endpoints (path halving): nets of any size in near-linear time. */
class NetSet {
  readonly #parent = new Map<string, string>();
  readonly #members = new Map<string, string[]>();

  join(a: string, b: string): void {
    const ra = this.#root(a);
    const rb = this.#root(b);
    if (ra === rb) return;
    const [big, small] = this.#members.get(ra)!.length >= this.#members.get(rb)!.length ? [ra, rb] : [rb, ra];
    this.#parent.set(small, big);
    const into = this.#members.get(big)!;
    for (const member of this.#members.get(small)!) into.push(member);
    this.#members.delete(small);
  }

  members(endpoint: string): string[] {
    return this.#parent.has(endpoint) ? this.#members.get(this.#root(endpoint))! : [endpoint];
  }

  #root(endpoint: string): string {
    if (!this.#parent.has(endpoint)) {
      this.#parent.set(endpoint, endpoint);
      this.#members.set(endpoint, [endpoint]);
      return endpoint;
    }
    let node = endpoint;
    for (;;) {
      const parent = this.#parent.get(node)!;
      if (parent === node) return node;
      const grand = this.#parent.get(parent)!;
      this.#parent.set(node, grand);
      node = grand;
    }
  }
}
