import type { Diagnostics } from "./diagnostics.ts";

/** A level a source puts on a wire: 0, 1, or nothing (released, high impedance). */
export type Drive = 0 | 1 | undefined;

interface FirmwareSide {
  owner: string;
  mode: "input" | "output" | "open-drain";
  pull: "up" | "down" | undefined;
  level: 0 | 1;
}

interface Switch {
  part: string;
  name: string;
  a: number;
  b: number;
  /** Whether the switch conducts now; `byFirmware` when the firmware's read asks (not an edge watcher or the page). */
  closed: (byFirmware: boolean) => boolean;
}

/**
 * The ESP32's internal pull-up (datasheet, "DC characteristics": R_PU ≈ 45 kΩ) against a line's capacitance sets how
 * long a released line takes to rise: it reads high once above V_IH = 0.75 × VDD, after R·C·ln 4.
 */
const PULL_UP_OHMS = 45_000;
const RISE_TO_VIH = Math.log(4);
/** A pin and a short trace, where nothing says more: rises in 0.6 µs, faster than one pin call. */
const DEFAULT_LINE_PF = 10;

/**
 * The electrical state of the board's digital pins. Levels are worked out when read, from everything on the wire:
 * the firmware's output or pull, parts driving a pin, and switches (keypad keys) that join two pins. Two drivers
 * fighting is a short; a wire with no driver and no pull floats and reads noise. Both are reported, by pin.
 */
export class Nets {
  #firmware = new Map<number, FirmwareSide>();
  #partDrivers = new Map<number, Map<string, () => Drive>>();
  #switches: Switch[] = [];
  #watchers = new Set<() => void>();
  /** Device time (ms) at which the firmware last released a line it held low (open drain 0 → 1). */
  #releasedAt = new Map<number, number>();
  #capacitancePf = new Map<number, number>();
  readonly #diagnostics: Diagnostics;
  readonly #random: () => number;
  readonly #now: () => number;

  /** `now`: the device's time for pin events, finer than the clock between two of its ticks (see VirtualBoard.ioNow). */
  constructor(diagnostics: Diagnostics, random: () => number, now: () => number) {
    this.#diagnostics = diagnostics;
    this.#random = random;
    this.#now = now;
  }

  firmwareSide(pin: number): FirmwareSide | undefined {
    return this.#firmware.get(pin);
  }

  /** What a part's wires add to a pin's capacitance (a keypad's ribbon and jumper wires). */
  setCapacitance(pin: number, pf: number): void {
    this.#capacitancePf.set(pin, pf);
  }

  /** The firmware writes an output; releasing an open-drain line it held low starts that line's rise. */
  writeFirmware(pin: number, level: 0 | 1): void {
    const side = this.#firmware.get(pin);
    if (!side || side.level === level) return;
    if (side.mode === "open-drain" && level === 1) this.#releasedAt.set(pin, this.#now());
    side.level = level;
    this.changed();
  }

  /** The firmware takes a pin as input or output. */
  setFirmware(pin: number, side: FirmwareSide | undefined): void {
    if (side) this.#firmware.set(pin, side);
    else this.#firmware.delete(pin);
    this.changed();
  }

  /** A part drives a pin (an IR module's output); the function is asked at read time. */
  drive(pin: number, part: string, level: () => Drive): void {
    let drivers = this.#partDrivers.get(pin);
    if (!drivers) this.#partDrivers.set(pin, (drivers = new Map()));
    drivers.set(part, level);
  }

  /** A switch between two pins (a keypad key); `closed` is asked at read time, so contact bounce can be modelled. */
  connect(part: string, name: string, a: number, b: number, closed: (byFirmware: boolean) => boolean): void {
    this.#switches.push({ part, name, a, b, closed });
  }

  /** Tells pins watching for edges that something on the board changed. */
  changed(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  watch(listener: () => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /** The level on `pin` now; `byFirmware` when the firmware reads it (a misread is then reported). */
  level(pin: number, byFirmware = false): 0 | 1 {
    const group = this.#connectedGroup(pin, byFirmware);
    const drivers: { who: string; level: 0 | 1 }[] = [];
    let pullUp = false;
    let pullDown = false;
    for (const member of group.pins) {
      const side = this.#firmware.get(member);
      if (side?.mode === "output") drivers.push({ who: `GPIO${member} (firmware output)`, level: side.level });
      if (side?.mode === "open-drain" && side.level === 0) drivers.push({ who: `GPIO${member} (open drain)`, level: 0 });
      if (side?.pull === "up") pullUp = true;
      if (side?.pull === "down") pullDown = true;
      for (const [part, driver] of this.#partDrivers.get(member) ?? []) {
        const level = driver();
        if (level !== undefined) drivers.push({ who: `${part} on GPIO${member}`, level });
      }
    }
    const highs = drivers.filter((d) => d.level === 1);
    const lows = drivers.filter((d) => d.level === 0);
    if (highs.length > 0 && lows.length > 0) {
      const through = group.via.length ? ` through ${group.via.join(", ")}` : "";
      this.#diagnostics.reportOnce(
        "board",
        "error",
        `short circuit: ${highs[0]!.who} drives high while ${lows[0]!.who} drives low${through} — ` +
          "drive only one line at a time and leave the others as inputs (or open drain)",
      );
      return 0;
    }
    if (drivers.length > 0) return drivers[0]!.level;
    if (pullUp && !pullDown) return this.#rising(pin, group.pins, byFirmware) ? 0 : 1;
    if (pullDown && !pullUp) return 0;
    if (pullUp && pullDown) return this.#random() < 0.5 ? 0 : 1;
    const side = this.#firmware.get(pin);
    if (side?.mode === "input") {
      const parts = this.#partsOn(group.pins);
      this.#diagnostics.reportOnce(
        side.owner,
        "warning",
        `GPIO${pin} is floating: nothing drives it and it has no pull resistor${parts ? ` (${parts})` : ""}, so it reads ` +
          "noise — open it with mode InputPullUp (or add an external pull-up)",
      );
    }
    return this.#random() < 0.5 ? 0 : 1;
  }

  /**
   * Whether a pulled-up wire is still below V_IH because a line joined to it was released a moment ago: the pull-up
   * charges every line in the group. Read by the firmware while it drives another line low — a keypad driver reading
   * the rows for the next column — the stale low belongs to the line before: reported, as it shows up as a key in the
   * wrong column.
   */
  #rising(pin: number, pins: number[], byFirmware: boolean): boolean {
    let released: number | undefined;
    let releasedPin = 0;
    for (const member of pins) {
      const at = this.#releasedAt.get(member);
      if (at !== undefined && (released === undefined || at > released)) [released, releasedPin] = [at, member];
    }
    if (released === undefined) return false;
    const pf = pins.reduce((sum, member) => sum + (this.#capacitancePf.get(member) ?? DEFAULT_LINE_PF), 0);
    const riseMs = (PULL_UP_OHMS * pf * 1e-12 * RISE_TO_VIH) * 1000;
    const elapsedMs = this.#now() - released;
    if (elapsedMs >= riseMs) return false;
    if (byFirmware) {
      const active = [...this.#firmware].find(([other, side]) => !pins.includes(other) && side.level === 0 && side.mode !== "input");
      if (active) {
        this.#diagnostics.reportOnce(
          "firmware",
          "error",
          `GPIO${pin} was read ${(elapsedMs * 1000).toFixed(1)} µs after GPIO${releasedPin} released it, while GPIO${active[0]} drives low: ` +
            `through ${pf} pF and the 45 kΩ pull-up it needs ${(riseMs * 1000).toFixed(1)} µs to read high, so it read low — ` +
            "a key of the previous column shows up in this one; after releasing a column, read the rows again until they are high",
        );
      }
    }
    return true;
  }

  #partsOn(pins: number[]): string {
    const names = new Set<string>();
    for (const s of this.#switches) if (pins.includes(s.a) || pins.includes(s.b)) names.add(s.part);
    for (const pin of pins) for (const part of this.#partDrivers.get(pin)?.keys() ?? []) names.add(part);
    return [...names].join(", ");
  }

  #connectedGroup(start: number, byFirmware = false): { pins: number[]; via: string[] } {
    const pins = [start];
    const via: string[] = [];
    for (let i = 0; i < pins.length; i++) {
      const pin = pins[i]!;
      for (const s of this.#switches) {
        const other = s.a === pin ? s.b : s.b === pin ? s.a : undefined;
        if (other === undefined || pins.includes(other) || !s.closed(byFirmware)) continue;
        pins.push(other);
        via.push(`${s.part} ${s.name}`);
      }
    }
    return { pins, via };
  }
}
