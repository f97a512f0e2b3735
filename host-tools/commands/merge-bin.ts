import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { CHIP_NAMES, chipByName } from "../flash/chips/known-chips.ts";
import { parseHeaderFlags } from "../flash/image/flash-params.ts";
import { HEADER_SIZE_NAMES, bytesOfSizeName, type HeaderSizeName } from "../flash/image/flash-size.ts";
import { mergeImages } from "../flash/image/merge.ts";
import { parseAmount } from "../flash/operations/numbers.ts";
import { addressFilePairs, readRegion } from "./region-files.ts";

const USAGE = `usage: esplab merge-bin -o OUTPUT ADDR FILE [ADDR FILE]... [options]
Merges images into one file for web flashers (ESP Web Tools, esptool-js) or \`esplab flash 0x0 OUTPUT\`, as esptool's
merge-bin does: the gaps are 0xFF (erased flash), the bootloader (at 0x1000 on the ESP32 and S2, 0x0 on the S3, C3 and C6) gets --flash-mode/--flash-size/--flash-freq,
and the set is checked first like a flash (the chip each image is for, apps against the partition table in the set,
no two files in one 4 KB erase sector).

options:
  -o, --output FILE       where to write the merged image
  -f, --format FORMAT     raw (default) | hex (Intel HEX: only the files' bytes, no 0xFF gaps)
  -t, --target-offset N   raw: the address the output will be flashed at (default 0)
  --pad-to-size SIZE      raw: fill with 0xFF up to SIZE (${HEADER_SIZE_NAMES.join(", ")}); also --fill-flash-size
  --flash-mode MODE       qio | qout | dio | dout (default keep)
  --flash-size SIZE       ${HEADER_SIZE_NAMES.join(" | ")} (default keep)
  --flash-freq FREQ       80m | 40m | 26m | 20m (default keep; the ESP32-C6 has no 26m)
  --chip CHIP             ${CHIP_NAMES.join(" | ")} (default esp32): the chip every image must be for`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      format: { type: "string", short: "f" },
      "target-offset": { type: "string", short: "t" },
      "pad-to-size": { type: "string" },
      "fill-flash-size": { type: "string" },
      "flash-mode": { type: "string" },
      "flash-size": { type: "string" },
      "flash-freq": { type: "string" },
      chip: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return (console.log(USAGE), 0);
  if (!values.output) throw new UsageError("usage", `merge-bin needs -o OUTPUT\n${USAGE}`);
  if (positionals.length === 0) throw new UsageError("usage", `expected ADDR FILE pairs\n${USAGE}`);
  const pairs = addressFilePairs(positionals, USAGE);
  const format = values.format ?? "raw";
  if (format !== "raw" && format !== "hex") throw new UsageError("bad-format", `--format ${format}: use raw or hex (esptool's uf2 is not supported)`);
  const chip = chipByName(values.chip ?? "esp32");
  if (!chip) throw new UsageError("unsupported-chip", `--chip ${values.chip}: use one of ${CHIP_NAMES.join(", ")}`);
  const pad = padSize(values["pad-to-size"] ?? values["fill-flash-size"]);
  const targetOffset = values["target-offset"] === undefined ? 0 : parseAmount(values["target-offset"], "--target-offset");
  if (format === "hex" && (pad !== undefined || targetOffset !== 0)) throw new UsageError("raw-only", "--pad-to-size and --target-offset apply to --format raw only (Intel HEX records carry their own addresses)");
  const { mode, freq, size } = parseHeaderFlags(values, ["keep"]);
  const regions = await Promise.all(pairs.map(({ address, file }) => readRegion(address, file)));

  const merged = mergeImages(regions, { chip: chip.name, targetOffset, padTo: pad, header: { mode, freq, size: size === "keep" ? undefined : size, chip: chip.name } });
  for (const warning of merged.warnings) console.error(`Warning: ${warning.region}: ${warning.message}`);
  for (const note of merged.notes) console.error(note);
  const out = format === "raw" ? merged.raw() : merged.hex();
  await writeFile(values.output, out);
  const bytes = typeof out === "string" ? Buffer.byteLength(out) : out.length;
  for (const region of merged.regions) console.error(`Added ${region.name} at 0x${region.address.toString(16)} (${region.data.length} bytes)`);
  console.error(`Wrote 0x${bytes.toString(16)} bytes to ${values.output}${format === "raw" ? `, ready to flash at 0x${targetOffset.toString(16)}` : " (Intel HEX)"}`);
  return 0;
}

function padSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!(HEADER_SIZE_NAMES as readonly string[]).includes(text)) throw new UsageError("bad-pad-size", `--pad-to-size ${text}: use one of ${HEADER_SIZE_NAMES.join(", ")}`);
  return bytesOfSizeName(text as HeaderSizeName);
}
