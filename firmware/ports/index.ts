import type { Clock } from "./clock.ts";
import type { IOClasses } from "./io.ts";
import type { Log } from "./log.ts";
import type { Storage } from "./storage.ts";
import type { Transport } from "./transport.ts";

export type * from "./clock.ts";
export type * from "./io.ts";
export type * from "./log.ts";
export type * from "./storage.ts";
export type * from "./transport.ts";
export { sleep } from "./clock.ts";

/** Everything the firmware may touch of the world, handed in by the platform entry (device or laptop). */
export interface Platform {
  io: IOClasses;
  clock: Clock;
  transport: Transport;
  storage: Storage;
  log: Log;
}
