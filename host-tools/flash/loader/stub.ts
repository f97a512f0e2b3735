import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { UsageError } from "../../../firmware/core/errors.ts";

/**
 * The flasher stub: a small program uploaded into the chip's RAM that replaces the ROM loader with a faster one
 * (16 KB blocks, streamed reads, erase commands). Its images are not stored in esplab: they are read at run time from
 * the esptool-js npm package (Apache-2.0), which ships them as JSON.
 */
export interface StubImage {
  entry: number;
  text: Uint8Array;
  textStart: number;
  data: Uint8Array;
  dataStart: number;
}

const cache = new Map<string, StubImage>();

export function loadStub(chip: string): StubImage {
  const cached = cache.get(chip);
  if (cached) return cached;
  const file = join(esptoolJsRoot(), "lib", "targets", "stub_flasher", `${chip}.json`);
  let json: { entry: number; text: string; text_start: number; data: string; data_start: number };
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError("stub-missing", `no flasher stub for ${chip} (${file}): ${(error as Error).message}. Reinstall with "npm install", or pass --no-stub to use the ROM loader`, { cause: error });
  }
  const stub: StubImage = {
    entry: json.entry,
    text: Buffer.from(json.text, "base64"),
    textStart: json.text_start,
    data: Buffer.from(json.data, "base64"),
    dataStart: json.data_start,
  };
  cache.set(chip, stub);
  return stub;
}

function esptoolJsRoot(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("esptool-js/package.json"));
}
