import type { Platform } from "../ports/index.ts";
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

/** Apps register under the name `config.app` selects. */
export function registerApp(name: string, factory: AppFactory): void {
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
