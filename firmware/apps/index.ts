import type { Platform } from "../ports/index.ts";
import { UsageError } from "../core/errors.ts";
import { ConfigError, readConfig, type FirmwareConfig, type FlatConfig } from "./config.ts";

/** A running firmware application. */
export interface App {
  /** Stops timers, closes connections and IO; the board is left as after reset. */
  stop(): void;
}

export type AppFactory = (platform: Platform, config: FirmwareConfig) => App;

// A plain object, not a Map: apps register when their modules load, which on the device is at link time, and a
// Map made then is read-only at run time (an object is copied to RAM when written).
const registry: Record<string, AppFactory> = Object.create(null) as Record<string, AppFactory>;

/**
 * App names: what `config.app` holds, so plain enough for a config file and a command line. (Checked by hand: a
 * RegExp made when this module loads could not be preloaded into flash.)
 */
function isAppName(name: unknown): boolean {
  if (typeof name !== "string" || name.length < 1 || name.length > 64) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alphanumeric = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alphanumeric && (i === 0 || (c !== 45 && c !== 95))) return false;
  }
  return true;
}

/**
 * Apps register under the name `config.app` selects, once each: a second app under a name already taken is refused
 * (the first would silently lose), as is a name a config file could not hold.
 */
export function registerApp(name: string, factory: AppFactory): void {
  if (!isAppName(name)) {
    throw new UsageError("APP_NAME", `registerApp(${JSON.stringify(name)}, …): an app name is 1–64 letters, digits, "-" or "_", starting with a letter or digit`);
  }
  if (typeof factory !== "function") throw new UsageError("APP_NAME", `registerApp("${name}", …) needs a function (platform, config) => app as its second argument`);
  const existing = registry[name];
  if (existing && existing !== factory) throw new UsageError("APP_NAME", `two apps are registered as "${name}": give each app its own name`);
  registry[name] = factory;
}

export function appNames(): string[] {
  return Object.keys(registry);
}

/** The firmware's entry on every platform: read the config, start the selected app. */
export function startFirmware(platform: Platform, given: FlatConfig): App {
  const config = readConfig(given);
  const factory = registry[config.app];
  if (!factory) {
    throw new ConfigError("CONFIG", `app "${config.app}" does not exist — set app to one of: ${appNames().join(", ")}`);
  }
  platform.log(`esplab firmware: app ${config.app}, device ${config.deviceId}`);
  return factory(platform, config);
}
