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
  closed: () => boolean;
}

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
  readonly #diagnostics: Diagnostics;
  readonly #random: () => number;

  constructor(diagnostics: Diagnostics, random: () => number) {
    this.#diagnostics = diagnostics;
    this.#random = random;
  }

  /** The firmware takes a pin as input or output. */
  setFirmware(pin: number, side: FirmwareSide | undefined): void {
    if (side) this.#firmware.set(pin, side);
    else this.#firmware.delete(pin);
    this.changed();
  }

  firmwareSide(pin: number): FirmwareSide | undefined {
    return this.#firmware.get(pin);
  }

  /** A part drives a pin (an IR module's output); the function is asked at read time. */
  drive(pin: number, part: string, level: () => Drive): void {
    let drivers = this.#partDrivers.get(pin);
    if (!drivers) this.#partDrivers.set(pin, (drivers = new Map()));
    drivers.set(part, level);
  }

  /** A switch between two pins (a keypad key); `closed` is asked at read time, so contact bounce can be modelled. */
  connect(part: string, name: string, a: number, b: number, closed: () => boolean): void {
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

  /** The level the firmware reads on `pin` now. */
  level(pin: number): 0 | 1 {
    const group = this.#connectedGroup(pin);
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
    if (pullUp && !pullDown) return 1;
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

  #partsOn(pins: number[]): string {
    const names = new Set<string>();
    for (const s of this.#switches) if (pins.includes(s.a) || pins.includes(s.b)) names.add(s.part);
    for (const pin of pins) for (const part of this.#partDrivers.get(pin)?.keys() ?? []) names.add(part);
    return [...names].join(", ");
  }

  #connectedGroup(start: number): { pins: number[]; via: string[] } {
    const pins = [start];
    const via: string[] = [];
    for (let i = 0; i < pins.length; i++) {
      const pin = pins[i]!;
      for (const s of this.#switches) {
        const other = s.a === pin ? s.b : s.b === pin ? s.a : undefined;
        if (other === undefined || pins.includes(other) || !s.closed()) continue;
        pins.push(other);
        via.push(`${s.part} ${s.name}`);
      }
    }
    return { pins, via };
  }
}
