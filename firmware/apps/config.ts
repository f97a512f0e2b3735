import { UsageError } from "../core/errors.ts";

/**
 * The firmware's configuration. On the device it comes from manifest.json's `config` (read through `mc/config`,
 * overridable with `mcconfig … key=value`); on the laptop from a config file and the environment. Both use the same
 * flat keys, listed in DEFAULTS, so a setting means the same thing everywhere.
 */
export type FlatConfig = Record<string, string | number | boolean | undefined>;

export interface Wiring {
  i2c: { data: number; clock: number; hz: number };
  lcdAddress: number;
  keypadRows: number[];
  keypadColumns: number[];
  servoPin: number;
  servoMinUs: number;
  servoMaxUs: number;
  irKind: "obstacle" | "distance";
  irPin: number;
  distancePin: number;
}

export interface FirmwareConfig {
  app: string;
  deviceId: string;
  wiring: Wiring;
  /** Every key as given, for the parts of the firmware that read their own settings (Firebase, MQTT). */
  values: FlatConfig;
}

/** The keys every build has, with the lab board's wiring. */
export const DEFAULTS: Readonly<FlatConfig> = Object.freeze({
  app: "board-check",
  device_id: "Device001",
  i2c_sda: 21,
  i2c_scl: 22,
  i2c_hz: 100_000,
  lcd_address: 0x27,
  keypad_rows: "13,14,27,26",
  keypad_columns: "25,33,32,23",
  servo_pin: 18,
  servo_min_us: 500,
  servo_max_us: 2500,
  ir_kind: "obstacle",
  ir_pin: 34,
  distance_pin: 35,
});

/** The configuration is wrong; the message lists every problem with the key to fix. */
export class ConfigError extends UsageError {}

export function readConfig(given: FlatConfig): FirmwareConfig {
  const values: FlatConfig = { ...DEFAULTS };
  for (const [key, value] of Object.entries(given)) if (value !== undefined && value !== "") values[key] = value;
  const problems: string[] = [];

  const integer = (key: string, min: number, max: number): number => {
    const raw = values[key];
    const value = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return min;
    }
    return value;
  };
  const pins = (key: string, count: number): number[] => {
    const raw = String(values[key] ?? "");
    const list = raw.split(",").map((part) => Number(part.trim()));
    if (list.length !== count || list.some((pin) => !Number.isInteger(pin) || pin < 0 || pin > 39)) {
      problems.push(`${key} must list ${count} GPIO numbers separated by commas (e.g. "13,14,27,26"), got "${raw}"`);
      return [];
    }
    return list;
  };

  const irKind = values.ir_kind;
  if (irKind !== "obstacle" && irKind !== "distance") problems.push(`ir_kind must be "obstacle" or "distance", got ${JSON.stringify(irKind)}`);
  const deviceId = String(values.device_id ?? "");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(deviceId)) {
    problems.push(`device_id must be 1–64 letters, digits, "-" or "_" (it becomes a topic level and a database key), got "${deviceId}"`);
  }
  const config: FirmwareConfig = {
    app: String(values.app),
    deviceId,
    wiring: {
      i2c: { data: integer("i2c_sda", 0, 39), clock: integer("i2c_scl", 0, 39), hz: integer("i2c_hz", 1000, 1_000_000) },
      lcdAddress: integer("lcd_address", 0x08, 0x77),
      keypadRows: pins("keypad_rows", 4),
      keypadColumns: pins("keypad_columns", 4),
      servoPin: integer("servo_pin", 0, 39),
      servoMinUs: integer("servo_min_us", 100, 3000),
      servoMaxUs: integer("servo_max_us", 100, 3000),
      irKind: irKind === "distance" ? "distance" : "obstacle",
      irPin: integer("ir_pin", 0, 39),
      distancePin: integer("distance_pin", 0, 39),
    },
    values,
  };
  if (config.wiring.servoMinUs >= config.wiring.servoMaxUs) {
    problems.push(`servo_min_us (${config.wiring.servoMinUs}) must be below servo_max_us (${config.wiring.servoMaxUs})`);
  }
  if (problems.length) throw new ConfigError("CONFIG", `the configuration has ${problems.length} problem(s):\n  - ${problems.join("\n  - ")}`);
  return config;
}

/** A string setting, or undefined when absent or empty. */
export function setting(config: FirmwareConfig, key: string): string | undefined {
  const value = config.values[key];
  return value === undefined || value === "" ? undefined : String(value);
}
