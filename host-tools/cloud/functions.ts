import type { JsonValue } from "../../firmware/net/firebase/ordering.ts";
import { angleForReading } from "../../firmware/apps/servo-mapping.ts";
import type { FirebaseEmulator } from "./firebase/index.ts";

/**
 * Assignment 2's bonus, "the mapping in a cloud function": when a reading lands at /readings/<device>/<id>, compute
 * the servo angle server-side (the same mapping the device would use) and write /devices/<device> = { angle, seq, at }.
 */
export function readingToAngleFunction(emulator: () => FirebaseEmulator) {
  return (namespace: string, paths: string[][]): void => {
    for (const path of paths) {
      if (path.length !== 3 || path[0] !== "readings") continue;
      const [, device, id] = path as [string, string, string];
      const reading = emulator().database.store(namespace).get(["readings", device, id]) as { cm?: number | null; obstacle?: boolean; seq?: JsonValue } | null;
      if (!reading) continue;
      const angle = angleForReading(reading);
      emulator()
        .database.adminSet(namespace, `/devices/${device}`, { angle, seq: reading.seq ?? null, at: { ".sv": "timestamp" } })
        .catch((error: Error) => console.warn(`cloud function: /devices/${device} not written: ${error.message}`));
    }
  };
}
