/**
 * What each GPIO of an ESP32 (WROOM-32 on a DevKit v1) can do, so wiring and firmware mistakes are caught by pin.
 * Source: the ESP32 datasheet's pin list and Espressif's DevKit guides (see ../shared/notes/parts.md).
 */

export const FLASH_PINS = [6, 7, 8, 9, 10, 11] as const;
export const INPUT_ONLY_PINS = [34, 35, 36, 37, 38, 39] as const;
export const STRAPPING_PINS = [0, 2, 5, 12, 15] as const;
export const ADC1_PINS = [32, 33, 34, 35, 36, 37, 38, 39] as const;
export const ADC2_PINS = [0, 2, 4, 12, 13, 14, 15, 25, 26, 27] as const;

const EXISTING = new Set([...Array.from({ length: 20 }, (_, i) => i), 21, 22, 23, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39]);

export type PinUse = "input" | "output" | "pull-up" | "pull-down" | "analog" | "pwm" | "i2c";

/** Returns why `pin` cannot serve `use` (an error), or undefined when it can. */
export function pinProblem(pin: number, use: PinUse): string | undefined {
  if (!Number.isInteger(pin) || !EXISTING.has(pin)) {
    return `GPIO${pin} does not exist on the ESP32 (valid: 0–19, 21–23, 25–27, 32–39)`;
  }
  if ((FLASH_PINS as readonly number[]).includes(pin)) {
    return `GPIO${pin} is wired to the SPI flash (GPIO6–11) and cannot be used — pick another pin`;
  }
  const inputOnly = (INPUT_ONLY_PINS as readonly number[]).includes(pin);
  if (inputOnly && (use === "output" || use === "pwm" || use === "i2c")) {
    return `GPIO${pin} is input-only (GPIO34–39 cannot drive a signal) — use an output-capable pin for ${use}`;
  }
  if (inputOnly && (use === "pull-up" || use === "pull-down")) {
    return `GPIO${pin} has no internal ${use} (GPIO34–39) — add an external resistor or use another pin`;
  }
  if (use === "analog" && !(ADC1_PINS as readonly number[]).includes(pin) && !(ADC2_PINS as readonly number[]).includes(pin)) {
    return `GPIO${pin} has no ADC channel — use GPIO32–39 for analog input`;
  }
  return undefined;
}

/** Returns advice for a pin that works but can surprise (boot straps, ADC2 with Wi-Fi), or undefined. */
export function pinWarning(pin: number, use: PinUse): string | undefined {
  if (use === "analog" && (ADC2_PINS as readonly number[]).includes(pin)) {
    return `GPIO${pin} is on ADC2, which cannot be read while Wi-Fi is on — move the analog sensor to ADC1 (GPIO32–39)`;
  }
  if ((STRAPPING_PINS as readonly number[]).includes(pin)) {
    return `GPIO${pin} is a strapping pin: a part that pulls it at reset can stop the board from booting or flashing`;
  }
  return undefined;
}
