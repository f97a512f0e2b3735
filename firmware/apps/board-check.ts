import type { Platform } from "../ports/index.ts";
import type { TimerHandle } from "../ports/clock.ts";
import { openDevices } from "./board-devices.ts";
import type { FirmwareConfig } from "./config.ts";
import { describeReading, showLines, type Devices } from "./devices.ts";
import { registerApp, type App } from "./index.ts";
import { angleForReading } from "./servo-mapping.ts";

/**
 * The first thing to run on a new board (or the virtual one): every part at once, no cloud. The LCD shows the IR
 * reading and the last key pressed; the servo follows the IR reading with Assignment 2's mapping.
 */
class BoardCheck implements App {
  readonly #devices: Devices;
  readonly #platform: Platform;
  readonly #timer: TimerHandle;
  #lastKey = "";
  #lastAngle: number | undefined;

  constructor(platform: Platform, config: FirmwareConfig) {
    this.#platform = platform;
    this.#devices = openDevices(platform, config.wiring);
    showLines(this.#devices.display, "esplab board", `${config.deviceId} ready`);
    this.#devices.keys.onKey((key) => {
      this.#lastKey = key;
      platform.log(`key ${key}`);
      this.#refresh();
    });
    this.#timer = platform.clock.setInterval(() => this.#refresh(), 250);
  }

  #refresh(): void {
    const reading = this.#devices.range.read();
    const angle = angleForReading(reading);
    if (angle !== this.#lastAngle) {
      this.#devices.servo.writeDegrees(angle);
      this.#lastAngle = angle;
      this.#platform.log(`${describeReading(reading)} -> servo ${angle}`);
    }
    showLines(this.#devices.display, describeReading(reading), `servo ${angle}${this.#lastKey ? ` key ${this.#lastKey}` : ""}`);
  }

  stop(): void {
    this.#platform.clock.clear(this.#timer);
    this.#devices.close();
  }
}

registerApp("board-check", (platform, config) => new BoardCheck(platform, config));
