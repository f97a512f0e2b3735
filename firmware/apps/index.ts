import type { Platform } from "../ports/index.ts";
import { ConfigError, readConfig, type FirmwareConfig, type FlatConfig } from "./config.ts";

/** A running firmware application. */
export interface App {
  /** Stops timers, closes connections and IO; the board is left as after reset. */
  stop(): void;
}

export type AppFactory = (platform: Platform, config: FirmwareConfig) => App;

const registry = new Map<string, AppFactory>();

/** Apps register under the name `config.app` selects. */
export function registerApp(name: string, factory: AppFactory): void {
  registry.set(name, factory);
}

export function appNames(): string[] {
  return [...registry.keys()];
}

/** The firmware's entry on every platform: read the config, start the selected app. */
export function startFirmware(platform: Platform, given: FlatConfig): App {
  const config = readConfig(given);
  const factory = registry.get(config.app);
  if (!factory) {
    throw new ConfigError("CONFIG", `app "${config.app}" does not exist — set app to one of: ${appNames().join(", ")}`);
  }
  platform.log(`esplab firmware: app ${config.app}, device ${config.deviceId}`);
  return factory(platform, config);
}
