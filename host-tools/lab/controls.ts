import type { VirtualDevice } from "../runtime/virtual-device.ts";
import type { LabControls } from "./server.ts";
import { UsageError } from "../../firmware/core/errors.ts";

interface KeypadPart {
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

/** The page's controls acting on the parts of the lab board (the same part methods scenarios use). */
export function partControls(device: () => VirtualDevice, reset: () => Promise<void>): LabControls {
  const partsOfType = <T>(type: string): T[] => device().board.parts.filter((p) => p.type === type) as unknown as T[];
  return {
    key(key, action) {
      const [keypad] = partsOfType<KeypadPart>("keypad-4x4");
      if (!keypad) throw new UsageError("NO_PART", "this board has no keypad");
      if (action === "press") keypad.press(key);
      else if (action === "release") keypad.release(key);
      else void keypad.tap(key);
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
