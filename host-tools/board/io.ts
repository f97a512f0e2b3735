import type {
  AnalogConstructor,
  AnalogInstance,
  AnalogOptions,
  BufferSource,
  DigitalConstructor,
  DigitalInstance,
  DigitalOptions,
  I2CConstructor,
  I2CInstance,
  I2COptions,
  IOClasses,
  PWMConstructor,
  PWMInstance,
  PWMOptions,
} from "../../firmware/ports/io.ts";
import { I2CNackError } from "./i2c-bus.ts";
import type { VirtualBoard } from "./board.ts";
import { pinProblem, pinWarning, type PinUse } from "./esp32-pins.ts";
import { WiringError } from "./wiring-error.ts";

/** Digital modes and edges, with the values Moddable's ESP32 host uses. */
export const DigitalMode = Object.freeze({
  Input: 0,
  InputPullUp: 1,
  InputPullDown: 2,
  InputPullUpDown: 3,
  Output: 8,
  OutputOpenDrain: 9,
  Rising: 1,
  Falling: 2,
});

/**
 * ECMA-419 IO classes bound to one virtual board: what `device.io` is on the ESP32. They check what the ESP32 would
 * refuse (a pin that does not exist, an output on an input-only pin, a pin opened twice, use after close) and throw
 * errors that name the pin and the fix.
 */
export function createIO(board: VirtualBoard): IOClasses {
  function checkPin(pin: unknown, use: PinUse, what: string): number {
    if (typeof pin !== "number") throw new WiringError("PIN", `${what}: "pin" must be a GPIO number, got ${String(pin)}`);
    const problem = pinProblem(pin, use);
    if (problem) throw new WiringError("PIN", `${what}: ${problem}`);
    const warning = pinWarning(pin, use);
    if (warning) board.diagnostics.reportOnce("firmware", "info", warning);
    return pin;
  }

  class Closable {
    #closed = false;
    protected readonly label: string;
    constructor(label: string) {
      this.label = label;
    }
    protected checkOpen(): void {
      if (this.#closed) throw new WiringError("CLOSED", `${this.label} was closed; create a new instance to use the pin again`);
    }
    protected markClosed(): boolean {
      if (this.#closed) return false;
      this.#closed = true;
      return true;
    }
  }

  class Digital extends Closable implements DigitalInstance {
    static readonly Input = DigitalMode.Input;
    static readonly InputPullUp = DigitalMode.InputPullUp;
    static readonly InputPullDown = DigitalMode.InputPullDown;
    static readonly InputPullUpDown = DigitalMode.InputPullUpDown;
    static readonly Output = DigitalMode.Output;
    static readonly OutputOpenDrain = DigitalMode.OutputOpenDrain;
    static readonly Rising = DigitalMode.Rising;
    static readonly Falling = DigitalMode.Falling;

    readonly #pin: number;
    readonly #output: boolean;
    #unwatch: (() => void) | undefined;

    constructor(options: DigitalOptions) {
      super(`Digital on GPIO${options?.pin}`);
      const mode = options?.mode;
      const output = mode === DigitalMode.Output || mode === DigitalMode.OutputOpenDrain;
      const pull = mode === DigitalMode.InputPullUp ? "up" : mode === DigitalMode.InputPullDown ? "down" : undefined;
      if (!Object.values(DigitalMode).includes(mode as never)) {
        throw new WiringError("MODE", `Digital on GPIO${options?.pin}: unknown mode ${String(mode)} — use Digital.Input, InputPullUp, InputPullDown, Output or OutputOpenDrain`);
      }
      if (mode === DigitalMode.InputPullUpDown) {
        throw new WiringError("MODE", `Digital on GPIO${options.pin}: InputPullUpDown enables both resistors, which the ESP32 does not support usefully — pick one`);
      }
      const pin = checkPin(options.pin, output ? "output" : pull === "up" ? "pull-up" : pull === "down" ? "pull-down" : "input", "Digital");
      board.claim(pin, this.label);
      board.checkWired(pin, output ? "a digital output" : "a digital input");
      this.#pin = pin;
      this.#output = output;
      board.nets.setFirmware(pin, {
        owner: "firmware",
        mode: mode === DigitalMode.Output ? "output" : mode === DigitalMode.OutputOpenDrain ? "open-drain" : "input",
        pull,
        level: 0,
      });
      if (options.onReadable) {
        const edge = options.edge ?? DigitalMode.Rising | DigitalMode.Falling;
        if (!(edge & (DigitalMode.Rising | DigitalMode.Falling))) {
          throw new WiringError("EDGE", `Digital on GPIO${pin}: onReadable needs edge Digital.Rising, Digital.Falling or both`);
        }
        const onReadable = options.onReadable;
        let last = board.nets.level(pin);
        this.#unwatch = board.nets.watch(() => {
          const now = board.nets.level(pin);
          if (now === last) return;
          const rising = now === 1;
          last = now;
          if ((rising && edge & DigitalMode.Rising) || (!rising && edge & DigitalMode.Falling)) {
            board.clock.setTimeout(() => onReadable.call(this), 0);
          }
        });
      }
    }

    read(): 0 | 1 {
      this.checkOpen();
      board.ioCall();
      return board.nets.level(this.#pin, true);
    }

    write(value: 0 | 1): void {
      this.checkOpen();
      if (!this.#output) throw new WiringError("NOT_OUTPUT", `${this.label} is an input; open it with mode Digital.Output to write`);
      if (value !== 0 && value !== 1) throw new WiringError("VALUE", `${this.label}: write takes 0 or 1, got ${String(value)}`);
      board.ioCall();
      board.nets.writeFirmware(this.#pin, value);
    }

    close(): void {
      if (!this.markClosed()) return;
      this.#unwatch?.();
      board.nets.setFirmware(this.#pin, undefined);
      board.release(this.#pin);
    }
  }

  class Analog extends Closable implements AnalogInstance {
    readonly resolution: number;
    readonly #pin: number;

    constructor(options: AnalogOptions) {
      super(`Analog on GPIO${options?.pin}`);
      const pin = checkPin(options?.pin, "analog", "Analog");
      const resolution = options.resolution ?? 12;
      if (!Number.isInteger(resolution) || resolution < 9 || resolution > 12) {
        throw new WiringError("RESOLUTION", `${this.label}: the ESP32 ADC resolution is 9–12 bits, got ${resolution}`);
      }
      board.claim(pin, this.label);
      board.checkWired(pin, "a PWM output");
      this.#pin = pin;
      this.resolution = resolution;
    }

    read(): number | undefined {
      this.checkOpen();
      return board.readAdc(this.#pin, this.resolution);
    }

    close(): void {
      if (this.markClosed()) board.release(this.#pin);
    }
  }

  class PWM extends Closable implements PWMInstance {
    readonly resolution: number;
    readonly hz: number;
    readonly #pin: number;

    constructor(options: PWMOptions) {
      super(`PWM on GPIO${options?.pin}`);
      const pin = checkPin(options?.pin, "pwm", "PWM");
      const resolution = options.resolution ?? 10;
      if (!Number.isInteger(resolution) || resolution < 1 || resolution > 20) {
        throw new WiringError("RESOLUTION", `${this.label}: resolution must be 1–20 bits, got ${resolution}`);
      }
      if (typeof options.hz !== "number" || !(options.hz > 0) || options.hz * 2 ** resolution > 80_000_000) {
        throw new WiringError(
          "FREQUENCY",
          `${this.label}: ${options.hz} Hz at ${resolution} bits is beyond the ESP32's LEDC (hz × 2^resolution ≤ 80 MHz)`,
        );
      }
      board.claim(pin, this.label);
      board.checkWired(pin, "a PWM output");
      this.#pin = pin;
      this.resolution = resolution;
      this.hz = options.hz;
    }

    write(value: number): void {
      this.checkOpen();
      const max = 2 ** this.resolution - 1;
      if (!Number.isInteger(value) || value < 0 || value > max) {
        throw new WiringError("VALUE", `${this.label}: duty must be an integer 0–${max} at ${this.resolution} bits, got ${value}`);
      }
      board.emitPwm(this.#pin, { hz: this.hz, duty: value / max, highUs: (value / max / this.hz) * 1e6, atMs: board.clock.now() });
    }

    close(): void {
      if (!this.markClosed()) return;
      board.emitPwm(this.#pin, undefined);
      board.release(this.#pin);
    }
  }

  class I2C extends Closable implements I2CInstance {
    readonly #options: I2COptions;

    constructor(options: I2COptions) {
      super(`I2C ${typeof options?.address === "number" ? `0x${options.address.toString(16)}` : "?"} on SDA ${options?.data}/SCL ${options?.clock}`);
      checkPin(options?.data, "i2c", "I2C data (SDA)");
      checkPin(options?.clock, "i2c", "I2C clock (SCL)");
      if (options.data === options.clock) throw new WiringError("PIN", `${this.label}: SDA and SCL must be different pins`);
      if (!Number.isInteger(options.address) || options.address < 0x08 || options.address > 0x77) {
        throw new WiringError("ADDRESS", `${this.label}: a 7-bit I2C address is 0x08–0x77, got ${String(options.address)}`);
      }
      if (typeof options.hz !== "number" || options.hz <= 0 || options.hz > 1_000_000) {
        throw new WiringError("FREQUENCY", `${this.label}: hz must be 1–1000000 (100000 or 400000 are usual), got ${String(options.hz)}`);
      }
      board.claimShared(options.data, "I2C SDA");
      board.claimShared(options.clock, "I2C SCL");
      this.#options = { ...options };
    }

    write(buffer: BufferSource, _stop?: boolean): void {
      this.checkOpen();
      board.i2cTransfer(this.#options, (bus) => bus.write(this.#options.address, this.#options.hz, toBytes(buffer)));
    }

    read(count: number, _stop?: boolean): ArrayBuffer {
      this.checkOpen();
      if (!Number.isInteger(count) || count < 0) throw new WiringError("VALUE", `${this.label}: read count must be a whole number`);
      const bytes = board.i2cTransfer(this.#options, (bus) => bus.read(this.#options.address, this.#options.hz, count));
      return bytes.slice().buffer;
    }

    close(): void {
      if (!this.markClosed()) return;
      board.releaseShared(this.#options.data);
      board.releaseShared(this.#options.clock);
    }
  }

  return {
    Digital: Digital as DigitalConstructor,
    Analog: Analog as AnalogConstructor,
    PWM: PWM as PWMConstructor,
    I2C: I2C as I2CConstructor,
  };
}

function toBytes(buffer: BufferSource): Uint8Array {
  if (buffer instanceof Uint8Array) return buffer;
  if (ArrayBuffer.isView(buffer)) return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return new Uint8Array(buffer);
}

export { I2CNackError };
