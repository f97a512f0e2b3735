import type { FlatConfig } from "../../firmware/apps/config.ts";
import type { BoardDescription } from "../board/index.ts";
import type { VirtualDevice } from "../runtime/virtual-device.ts";
import type { LabControls } from "./server.ts";
import { UsageError } from "../../firmware/core/errors.ts";
import { sleep } from "../../firmware/ports/clock.ts";

interface KeypadPart {
  readonly labels: string[];
  readsWhilePressed(label: string): { count: number; spanMs: number };
  press(label: string): void;
  release(label: string): void;
  tap(label: string, holdMs?: number): void | Promise<void>;
}
interface DistancePart {
  setDistanceCm(cm: number): void;
}
interface ObstaclePart {
  setObstacle(present: boolean): void;
}

/**
 * A mouse click can be a few milliseconds, shorter than the keypad driver's scan and debounce, and would then not
 * register. So a release waits until the key has been held MIN_HOLD_MS and read closed MIN_READS times over
 * MIN_SEEN_MS (about four of the driver's scans, which run late when the engine is busy), or MAX_HOLD_MS at most; then
 * a pause before the same key goes down again.
 */
export const MIN_HOLD_MS = 60;
const MIN_READS = 16;
const MIN_SEEN_MS = 30;
const MAX_HOLD_MS = 1000;
const MIN_GAP_MS = 30;

/** The page's controls acting on the parts of the lab board (the same part methods scenarios use). */
export function partControls(device: () => VirtualDevice, reset: () => Promise<void>): LabControls {
  const partsOfType = <T>(type: string): T[] => device().board.parts.filter((p) => p.type === type) as unknown as T[];
  // Each key's presses and releases happen in order, spaced by the board's clock.
  const keys = new Map<string, { queue: Promise<void>; pressedAt: number }>();
  return {
    key(key, action) {
      const [keypad] = partsOfType<KeypadPart>("keypad-4x4");
      if (!keypad) throw new UsageError("NO_PART", "this board has no keypad");
      if (!keypad.labels.includes(key)) throw new UsageError("NO_KEY", `the keypad has no key "${key}"; its keys are ${keypad.labels.join(" ")}`);
      if (action === "tap") return void keypad.tap(key);
      const clock = device().platform.clock;
      const entry = keys.get(key) ?? { queue: Promise.resolve(), pressedAt: 0 };
      keys.set(key, entry);
      entry.queue = entry.queue.then(async () => {
        if (action === "press") {
          keypad.press(key);
          entry.pressedAt = clock.now();
          return;
        }
        const held = () => clock.now() - entry.pressedAt;
        const seen = () => {
          const reads = keypad.readsWhilePressed(key);
          return reads.count >= MIN_READS && reads.spanMs >= MIN_SEEN_MS;
        };
        while (held() < MAX_HOLD_MS && (held() < MIN_HOLD_MS || !seen())) await sleep(clock, 5);
        keypad.release(key);
        await sleep(clock, MIN_GAP_MS);
      });
    },
    ir({ distanceCm, obstacle }) {
      if (distanceCm !== undefined) {
        for (const part of [...partsOfType<DistancePart>("ir-gp2y0a21"), ...partsOfType<DistancePart>("ir-obstacle")]) part.setDistanceCm(distanceCm);
      }
      if (obstacle !== undefined) for (const part of partsOfType<ObstaclePart>("ir-obstacle")) part.setObstacle(obstacle);
    },
    reset,
  };
}

/** Which IR sensor the firmware reads: the FC-51's obstacle output or the Sharp's distance, on its pin in `wiring`. */
export function irSensorSettings(wiring: BoardDescription, kind: "obstacle" | "distance"): FlatConfig {
  const type = kind === "obstacle" ? "ir-obstacle" : "ir-gp2y0a21";
  const part = wiring.parts.find((p) => p.type === type);
  if (!part || typeof part.pin !== "number") throw new UsageError("NO_PART", `this board has no ${kind === "obstacle" ? "FC-51" : "Sharp"} sensor (${type})`);
  return kind === "obstacle" ? { ir_kind: kind, ir_pin: part.pin } : { ir_kind: kind, distance_pin: part.pin };
}
