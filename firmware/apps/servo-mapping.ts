/**
 * Assignment 2's mapping from an IR reading to a servo angle: near → 180°, far → 0°, linear over the Sharp sensor's
 * 10–80 cm range; with an obstacle-only sensor, an obstacle turns the servo to 180° and a clear path to 0°.
 * The same function runs on the device and in the local cloud's function (the assignment's bonus).
 */
export const NEAR_CM = 10;
export const FAR_CM = 80;

export function angleForReading(reading: { cm?: number | null; obstacle?: boolean }): number {
  if (typeof reading.cm === "number" && Number.isFinite(reading.cm)) {
    const clamped = Math.min(FAR_CM, Math.max(NEAR_CM, reading.cm));
    return Math.round(((FAR_CM - clamped) / (FAR_CM - NEAR_CM)) * 180);
  }
  return reading.obstacle ? 180 : 0;
}
