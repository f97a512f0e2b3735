import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { parseAppImage } from "../flash/image/app-image.ts";
import { formatImageInfo, readAppDescription } from "../flash/image/image-info.ts";

const USAGE = `usage: esplab image-info FILE [--json]
Prints what esptool's "image_info --version 2" prints for an ESP32 app or bootloader .bin
(without esptool's own "esptool.py vX" banner line, which describes the tool, not the image).`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" }, help: { type: "boolean" } } });
  if (values.help) { console.log(USAGE); return 0; }
  if (positionals.length !== 1) throw new UsageError("usage", `expected one image file\n${USAGE}`);
  const bytes = new Uint8Array(await readFile(positionals[0]!));
  if (values.json) {
    const image = parseAppImage(bytes);
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    const hash = image.hash && { stored: hex(image.hash.stored), computed: hex(image.hash.computed), valid: image.hash.valid };
    console.log(JSON.stringify({ fileSize: bytes.length, ...image, hash, appDescription: readAppDescription(bytes, image) }, null, 2));
  } else {
    process.stdout.write(formatImageInfo(bytes));
  }
  return 0;
}
