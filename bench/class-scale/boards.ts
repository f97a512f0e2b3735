import { Assignment2 } from "../../firmware/apps/assignment2.ts";
import { readConfig, type FlatConfig } from "../../firmware/apps/config.ts";
import type { Devices } from "../../firmware/apps/devices.ts";
import type { IOClasses, Platform } from "../../firmware/ports/index.ts";
import { MemoryStorage } from "../../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../../host-tools/platform/node-transport.ts";
import { VirtualDevice } from "../../host-tools/runtime/virtual-device.ts";
import type { PhasedClock } from "./phased-clock.ts";

/**
 * What one benchmark board is. Both run Assignment 2's own code (firmware/apps/assignment2.ts) with the firmware's
 * Firebase client (firmware/net/firebase) over its own TCP connections, on the Node engine:
 *  - "full": the lab's virtual board (LCD, keypad, servo, FC-51 at the pin and bus level) through the firmware's
 *    drivers, started as `esplab lab --engine node` starts it (VirtualDevice);
 *  - "app": the Assignment2 class handed a sensor that reads "obstacle" every other board and a servo that records
 *    its angle, without part models or drivers: the same requests to the cloud, without the keypad's 10 ms scan
 *    (~1 % of a core per board here), so that 1,000 fit beside the cloud on 2 cores.
 */
export type BoardKind = "full" | "app";
export const BOARD_KINDS: readonly BoardKind[] = ["full", "app"];

export interface BenchBoard {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `onServo` hears each angle written to the servo; `onLine` each line the firmware prints. */
export function makeBoard(kind: BoardKind, config: FlatConfig, clock: PhasedClock, seed: number, onServo: () => void, onLine: (text: string) => void): BenchBoard {
  if (kind === "full") {
    const device = new VirtualDevice({ config, engine: "node", clock, seed });
    device.board.listenPwm(readConfig(config).wiring.servoPin, onServo);
    device.serial.listen(({ text }) => onLine(text));
    return { start: () => device.start(), stop: () => device.stop() };
  }
  // Assignment 2 reaches the pins only through the Devices below, never through io.
  const platform: Platform = { io: {} as IOClasses, clock, transport: new NodeTransport(), storage: new MemoryStorage(), log: onLine };
  const devices: Devices = {
    display: { columns: 16, rows: 2, clear() {}, setCursor() {}, print() {} },
    keys: { onKey: () => () => {} },
    servo: { writeDegrees: onServo },
    range: { kind: "obstacle", read: () => ({ cm: undefined, obstacle: seed % 2 === 0 }) },
    close() {},
  };
  const noKeypad = {
    ask: () => Promise.reject(new Error("the benchmark's boards sign in with firebase_password, not the keypad")),
    accepted() {},
    rejected() {},
  };
  let app: Assignment2 | undefined;
  return {
    start: async () => void (app = new Assignment2(platform, readConfig(config), devices, noKeypad)),
    stop: async () => app?.stop(),
  };
}
