import "../../apps/all.ts";
import type { FlatConfig } from "../../apps/config.ts";
import { startFirmware, type App } from "../../apps/index.ts";
import { events, xsPlatform } from "./platform.ts";

/** The entry of the XS bundle: the host evaluates it, then calls `__esplab.start(config)`. */
let app: App | undefined;

(globalThis as { __esplab?: unknown }).__esplab = {
  events,
  /** The seams as the firmware sees them, for tests and diagnostics. */
  platform: xsPlatform,
  start(config: FlatConfig) {
    app = startFirmware(xsPlatform, config);
  },
  stop() {
    app?.stop();
    app = undefined;
  },
};
