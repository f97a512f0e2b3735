import { createHash } from "node:crypto";
import { UsageError } from "../../../firmware/core/errors.ts";
import { chipByName, type ChipName } from "../chips/known-chips.ts";
import { ImageError, parseAppImage } from "./app-image.ts";
import { HEADER_SIZES, HEADER_SIZE_NAMES, bytesOfSizeName, headerSizeFor, sizeName, type HeaderSizeName } from "./flash-size.ts";

/** Header byte 2 (esptool cmds.py FLASH_MODES); byte 3's low nibble is the chip's (its flashFrequencies). */
const MODES = { qio: 0, qout: 1, dio: 2, dout: 3 } as const;
const FREQS = { "40m": 0x0, "26m": 0x1, "20m": 0x2, "80m": 0xf } as const;

export type FlashMode = keyof typeof MODES;
export type FlashFreq = keyof typeof FREQS;
export const FLASH_MODES = Object.keys(MODES) as FlashMode[];
export const FLASH_FREQS = Object.keys(FREQS) as FlashFreq[];

export interface FlashParams { mode?: FlashMode; size?: HeaderSizeName; freq?: FlashFreq; /** The chip the image is for (ESP32 unless told): its frequency codes. */ chip?: ChipName }

/** Rewrites header bytes 2–3 of a bootloader image (a copy) and recomputes the appended SHA-256 when present. */
export function patchFlashParams(data: Uint8Array, params: FlashParams): Uint8Array {
  const image = parseAppImage(data);
  const out = data.slice();
  if (params.mode) out[2] = MODES[params.mode];
  const sizeNibble = params.size ? HEADER_SIZES[params.size] : out[3]! & 0xf0;
  const freqNibble = params.freq ? frequencyCode(params.freq, params.chip ?? "esp32") : out[3]! & 0x0f;
  out[3] = sizeNibble | freqNibble;
  if (image.hash) {
    const hashStart = findHashStart(image);
    out.set(createHash("sha256").update(out.subarray(0, hashStart)).digest(), hashStart);
  }
  return out;
}

function frequencyCode(freq: FlashFreq, chipName: ChipName): number {
  const chip = chipByName(chipName)!;
  const code = chip.flashFrequencies[freq];
  if (code === undefined) throw new UsageError("bad-flash-param", `--flash-freq ${freq}: the ${chip.label} takes ${Object.keys(chip.flashFrequencies).join(", ")}`);
  return code;
}

function findHashStart(image: ReturnType<typeof parseAppImage>): number {
  const last = image.segments[image.segments.length - 1];
  const end = last ? last.fileOffset + last.length : 24;
  return end + 16 - (end % 16);
}

/** What `--flash-size` asked for: a size, the chip's own (detect), or the header's as built (keep). */
export type FlashSizeChoice = HeaderSizeName | "detect" | "keep";

/**
 * Resolves --flash-size against the size read from the chip's JEDEC id, as esptool's _set_flash_parameters does:
 * "detect" takes the chip's size, "keep" leaves the header alone. `notes` say what was decided.
 */
export function resolveFlashSize(choice: FlashSizeChoice, detected: number): { size?: HeaderSizeName; notes: string[] } {
  if (choice === "keep") return { notes: [] };
  if (choice !== "detect") {
    const notes = bytesOfSizeName(choice) > detected ? [`Warning: --flash-size ${choice} is larger than the ${sizeName(detected)} flash the chip reports`] : [];
    return { size: choice, notes };
  }
  const size = headerSizeFor(detected);
  if (!size) return { notes: [`Warning: the chip's ${sizeName(detected)} flash has no size code in the image header (1MB..128MB); keeping the header's size`] };
  return { size, notes: [`Auto-detected flash size: ${size}`] };
}

/**
 * Patches the bootloader at its offset as esptool's _update_image_flash_params does: data that is not a valid
 * image is left alone with a warning (the plan check then says what is wrong with it).
 */
export function patchBootloader(data: Uint8Array, params: FlashParams): { data: Uint8Array; note?: string } {
  if (!params.mode && !params.size && !params.freq) return { data };
  let patched: Uint8Array;
  try {
    patched = patchFlashParams(data, params);
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    return { data, note: `Warning: the bootloader is not a valid ESP32 image (${error.message}), so its flash settings were not changed` };
  }
  if (patched[2] === data[2] && patched[3] === data[3]) return { data };
  const value = (patched[2]! << 8) | patched[3]!;
  return { data: patched, note: `Flash parameters set to 0x${value.toString(16).padStart(4, "0")}` };
}

/** --flash-mode/--flash-freq/--flash-size as given (each checked; a size defaults to keep). */
export function parseHeaderFlags<S extends "keep" | "detect">(values: { "flash-mode"?: string; "flash-size"?: string; "flash-freq"?: string }, sizeWords: readonly S[]): { mode?: FlashMode; freq?: FlashFreq; size: S | HeaderSizeName } {
  const check = <T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined => {
    if (value === undefined || value === "keep") return undefined;
    if (!(allowed as readonly string[]).includes(value)) throw new UsageError("bad-flash-param", `--${flag} ${value}: use one of keep, ${allowed.filter((a) => a !== "keep").join(", ")}`);
    return value as T;
  };
  return {
    mode: check(values["flash-mode"], FLASH_MODES, "flash-mode"),
    freq: check(values["flash-freq"], FLASH_FREQS, "flash-freq"),
    size: check(values["flash-size"], [...sizeWords, ...HEADER_SIZE_NAMES], "flash-size") ?? ("keep" as S),
  };
}
