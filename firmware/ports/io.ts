/**
 * ECMA-419 IO, as the firmware sees it. On the ESP32 these are Moddable's `embedded:io/*` classes; on the laptop
 * they are the virtual board's. Drivers receive a constructor in an options bag (`{ io: I2C, address: 0x27, ... }`)
 * and never import an implementation, so the same driver runs on either.
 */

/** Anything ECMA-419 accepts as a byte buffer. */
export type BufferSource = ArrayBuffer | ArrayBufferView;

export interface DigitalOptions {
  pin: number;
  mode: number;
  edge?: number;
  onReadable?: (this: DigitalInstance) => void;
}

export interface DigitalInstance {
  read(): 0 | 1;
  write(value: 0 | 1): void;
  close(): void;
}

export interface DigitalConstructor {
  new (options: DigitalOptions): DigitalInstance;
  readonly Input: number;
  readonly InputPullUp: number;
  readonly InputPullDown: number;
  readonly Output: number;
  readonly OutputOpenDrain: number;
  readonly Rising: number;
  readonly Falling: number;
}

export interface AnalogOptions {
  pin: number;
  resolution?: number;
}

export interface AnalogInstance {
  /**
   * 0 … 2^resolution − 1; undefined when the ADC could not convert — Moddable's Analog returns nothing when ESP-IDF's
   * read fails, as it does on an ADC2 pin while Wi-Fi runs.
   */
  read(): number | undefined;
  readonly resolution: number;
  close(): void;
}

export interface AnalogConstructor {
  new (options: AnalogOptions): AnalogInstance;
}

export interface PWMOptions {
  pin: number;
  hz: number;
  resolution?: number;
}

export interface PWMInstance {
  /** duty cycle 0 … 2^resolution − 1 */
  write(value: number): void;
  readonly resolution: number;
  readonly hz: number;
  close(): void;
}

export interface PWMConstructor {
  new (options: PWMOptions): PWMInstance;
}

export interface I2COptions {
  data: number;
  clock: number;
  hz: number;
  address: number;
  port?: number;
}

export interface I2CInstance {
  /** Throws when the addressed device does not acknowledge. */
  write(buffer: BufferSource, stop?: boolean): void;
  read(count: number, stop?: boolean): ArrayBuffer;
  close(): void;
}

export interface I2CConstructor {
  new (options: I2COptions): I2CInstance;
}

/** The IO classes a host offers, as Moddable's `device.io` does. */
export interface IOClasses {
  Digital: DigitalConstructor;
  Analog: AnalogConstructor;
  PWM: PWMConstructor;
  I2C: I2CConstructor;
}
