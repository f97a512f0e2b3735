/**
 * What the apps need of the hardware, in the fewest words. The drivers in firmware/drivers/ provide it on the
 * device and on the virtual board alike (see board-devices.ts), so an app reads as what it does.
 */

/** A character display (the 16x2 LCD). */
export interface TextDisplay {
  readonly columns: number;
  readonly rows: number;
  clear(): void;
  setCursor(column: number, row: number): void;
  print(text: string): void;
}

/** Key presses from the keypad, one label at a time ("0"–"9", "A"–"D", "*", "#"). */
export interface KeyEvents {
  onKey(listener: (key: string) => void): () => void;
}

/** The servo's shaft, in degrees 0–180. */
export interface AngleOutput {
  writeDegrees(angle: number): void;
}

/** One look of the IR sensor: a distance when the sensor measures one, and whether something is in front. */
export interface RangeReading {
  cm: number | undefined;
  obstacle: boolean;
}

export interface RangeSensor {
  readonly kind: "obstacle" | "distance";
  read(): RangeReading;
}

export interface Devices {
  display: TextDisplay;
  keys: KeyEvents;
  servo: AngleOutput;
  range: RangeSensor;
  close(): void;
}

/** Writes whole lines, padded, so leftovers of a longer text never stay on screen (and without clearing: no flicker). */
export function showLines(display: TextDisplay, ...lines: string[]): void {
  lines.slice(0, display.rows).forEach((line, row) => {
    display.setCursor(0, row);
    display.print(line.slice(0, display.columns).padEnd(display.columns, " "));
  });
}

/** An IR reading as 16 LCD characters at most: "IR 42 cm", "IR 12 cm obst", "IR obstacle" or "IR clear". */
export function describeReading(reading: RangeReading): string {
  if (reading.cm !== undefined) return `IR ${reading.cm.toFixed(0)} cm${reading.obstacle ? " obst" : ""}`;
  return reading.obstacle ? "IR obstacle" : "IR clear";
}
