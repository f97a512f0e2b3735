import type { BoardDescription } from "./description.ts";

/**
 * The lab's board: an ESP32 DevKit v1 with the course's parts. Pins avoid the strapping pins (GPIO12 high at reset
 * selects 1.8 V flash and the board will not boot), keep the Sharp sensor on ADC1 (usable with Wi-Fi on), and put the
 * keypad columns, which the firmware drives, on output-capable pins.
 */
export const LAB_WIRING: BoardDescription = {
  name: "esplab ESP32 DevKit v1",
  i2c: { sda: 21, scl: 22 },
  parts: [
    { type: "lcd1602-i2c", id: "lcd", address: 0x27 },
    { type: "keypad-4x4", id: "keypad", rows: [13, 14, 27, 26], columns: [25, 33, 32, 23] },
    { type: "servo-sg90", id: "servo", pin: 18 },
    { type: "ir-obstacle", id: "ir", pin: 34 },
    { type: "ir-gp2y0a21", id: "distance", pin: 35 },
  ],
};
