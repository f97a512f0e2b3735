import { EsplabError } from "../../firmware/core/errors.ts";
import { ESP32_SLOT_BYTES, type DeviceImage } from "./device-image.ts";

/** The module holding the whole firmware: preloaded into flash, so its objects cost no RAM at boot. */
export const FIRMWARE_LIBRARY = "esplab";

/** Byte code a module left for boot may have: `main` is two lines; anything bigger means the library was not preloaded. */
const MAIN_CODE_LIMIT = 2048;

/** Headroom the manifest's creation keeps over what the firmware needs. */
export const MARGIN = 0.25;

/**
 * What the firmware needs at most, measured in the running VM on Moddable's runtime (bench/device-memory.ts, every
 * shipped app): the stack's deepest point, and the slots and chunk bytes alive after boot. The tests on that runtime
 * fail when the firmware outgrows these; raise them from a new measurement, and creation with them.
 */
export const FIRMWARE_NEEDS = {
  // telemetry's MQTT connect peaked at 422 slots. The scenarios reach the local cloud over plain TCP; TLS handshakes
  // run in socket callbacks, from an empty stack, and the device-layer tests (Firebase over HTTPS, MQTT over mutual
  // TLS) pass with a 384-slot stack. creation.stack (768) keeps more than the margin asks (560) for what is unmeasured.
  stackSlots: 448,
  // assignment2 after its scenario: 1242 slots and 9504 chunk bytes alive (chunks at Linux's sizes, above the ESP32's).
  bootHeapSlots: 1280,
  bootChunkBytes: 10240,
};

/**
 * Fails a device build whose image would not fit the device's memory, with the figures, instead of failing at boot:
 * the firmware library must be preloaded, and the stack and the static block must hold what the firmware needs
 * (FIRMWARE_NEEDS) with the margin.
 */
export function checkDeviceMemory(image: DeviceImage): void {
  const problems: string[] = [];
  if (image.notPreloaded.includes(FIRMWARE_LIBRARY)) {
    problems.push(`the firmware library "${FIRMWARE_LIBRARY}" was not preloaded (its objects would be built in RAM at boot): add it to "preload" in manifest.json and keep its top level free of I/O`);
  }
  const { stackCount, staticSize, initialHeapCount } = image.creation;
  const stackNeeded = Math.ceil(FIRMWARE_NEEDS.stackSlots * (1 + MARGIN));
  if (stackCount < stackNeeded) {
    problems.push(`creation.stack is ${stackCount} slots; the firmware needs up to ${FIRMWARE_NEEDS.stackSlots}, ${stackNeeded} with the ${MARGIN * 100} % margin`);
  }
  const needed = (stackCount + FIRMWARE_NEEDS.bootHeapSlots) * ESP32_SLOT_BYTES + FIRMWARE_NEEDS.bootChunkBytes;
  if (staticSize && needed * (1 + MARGIN) > staticSize) {
    problems.push(`creation.static is ${staticSize} bytes; the stack (${stackCount} slots) and what the firmware keeps after boot (${FIRMWARE_NEEDS.bootHeapSlots} slots of ${ESP32_SLOT_BYTES} bytes, ${FIRMWARE_NEEDS.bootChunkBytes} chunk bytes) need ${needed} bytes, ${Math.ceil(needed * (1 + MARGIN))} with the ${MARGIN * 100} % margin`);
  }
  if (initialHeapCount < FIRMWARE_NEEDS.bootHeapSlots) {
    problems.push(`creation.heap.initial is ${initialHeapCount} slots; the firmware keeps ${FIRMWARE_NEEDS.bootHeapSlots} after boot, so the heap would grow in small steps while it starts`);
  }
  if (problems.length) throw new EsplabError("DEVICE_MEMORY", `the device image would not fit the ESP32's memory:\n  - ${problems.join("\n  - ")}`);
}
