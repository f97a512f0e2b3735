import type { FlatConfig } from "../../apps/config.ts";
import { startFirmware, type App } from "../../apps/index.ts";
import { decodeText } from "./bridge.ts";
import { events, xsPlatform } from "./platform.ts";

/**
 * The XS engine's side of the laptop runtime: the host evaluates the bundle (this module and the apps the build puts
 * beside it), then calls `__esplab.start(config)`.
 */
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

/** The host's calls into the firmware (timers, pin edges, network data) arrive as commands: { event, args }. */
(globalThis as { handleCommand?: unknown }).handleCommand = (request: ArrayBuffer): ArrayBuffer => {
  const { event, args } = JSON.parse(decodeText(new Uint8Array(request))) as { event: keyof typeof events | "gc"; args: unknown[] };
  if (event === "gc") (globalThis as { gc?: () => void }).gc?.(); // xsnap's collector, for footprint measurements
  else (events[event] as (...a: unknown[]) => void)(...args);
  return new ArrayBuffer(0);
};
