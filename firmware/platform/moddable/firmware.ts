import config from "mc/config";
import type { FlatConfig } from "../../apps/config.ts";
import { startFirmware, type App } from "../../apps/index.ts";
import type { Platform } from "../../ports/index.ts";
import { moddableClock } from "./clock.ts";
import { moddableIO } from "./io.ts";
import { preferenceStorage } from "./storage.ts";
import { moddableDns } from "./dns.ts";
import { ModdableTransport } from "./transport.ts";

/**
 * The firmware library on the device ("esplab" in manifest.json, bundled with the apps the build puts beside it):
 * preloaded, so its top level only defines things — no I/O, no timers, nothing that needs the running device.
 * `startDevice` is what `main` calls at boot.
 */

/** Binds the seams to Moddable and starts the app the config selects. With `ssid` in the config, Moddable's network
 * setup has already joined Wi-Fi and set the clock by SNTP before this runs. */
export function startDevice(): App {
  const platform: Platform = {
    io: moddableIO,
    clock: moddableClock,
    transport: new ModdableTransport(moddableDns()),
    storage: preferenceStorage,
    log: (line) => trace(`${line}\n`),
  };
  const settings: FlatConfig = {};
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") settings[key] = value;
  }
  return startFirmware(platform, settings);
}
