import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { lastDeviceBuild } from "../build/device-build.ts";
import { findProject } from "../project/project.ts";
import { parseHeaderFlags, patchBootloader, resolveFlashSize } from "../flash/image/flash-params.ts";
import { bytesOfSizeName } from "../flash/image/flash-size.ts";
import type { FlashRegion } from "../flash/image/plan.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, afterMode, withSession } from "../flash/operations/connection-options.ts";
import { flashImages } from "../flash/operations/flash-images.ts";
import { describePartition, partitionOnChip } from "../flash/operations/partition-target.ts";
import type { Session } from "../flash/operations/session.ts";
import { hex } from "../flash/operations/numbers.ts";
import { addressFilePairs, readRegion } from "./region-files.ts";
import { ProgressLine, formatBytes } from "../flash/operations/progress.ts";

const USAGE = `usage: esplab flash [ADDR FILE]... [options]
       esplab flash --partition NAME FILE [options]
Writes images to the board's flash, compressed, and verifies every region by MD5. Regions whose bytes are already
on the chip are skipped; of the others, only the 4 KB sectors that differ from the chip's are written (the chip
hashes each 64 KB block, then the sectors of the blocks that differ). With no ADDR FILE pairs it flashes the last \`esplab build --device esp32\` output
(bootloader at 0x1000, partition table at 0x8000, app at 0x10000). The chip may be an ESP32, ESP32-S2, S3, C3 or C6;
each image must be built for it (the S3, C3 and C6 take their bootloader at 0x0).
Every image is checked (magic, chip, size, partitions, regions sharing a 4 KB erase sector) before anything is
written; after the last write every region is verified again, and success means the whole set is on the chip.

options:
  --partition NAME    write FILE at the start of partition NAME of the table on the board (read from 0x8000);
                      a file larger than the partition is refused
  --flash-mode MODE   rewrite the bootloader header: qio | qout | dio | dout
  --flash-size SIZE   rewrite the bootloader header: keep (default) | detect (the size the chip's flash id names)
                      | 1MB | 2MB | 4MB | 8MB | 16MB | 32MB | 64MB | 128MB; the images must fit the smaller of it
                      and the chip's flash
  --flash-freq FREQ   rewrite the bootloader header: 80m | 40m | 26m | 20m
  --no-diff           write changed regions whole instead of only their changed sectors
  --no-skip           write every region even if the chip already holds it (implies --no-diff)
  --no-compress       send plain 0xff-padded blocks
  --erase-all         erase the whole flash first (stored settings and Wi-Fi credentials in NVS go too)
  --build DIR         flash the Moddable build in DIR instead of the last one
${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CONNECTION_FLAGS,
      "flash-mode": { type: "string" },
      "flash-size": { type: "string" },
      "flash-freq": { type: "string" },
      "no-skip": { type: "boolean" },
      "no-diff": { type: "boolean" },
      "no-compress": { type: "boolean" },
      "erase-all": { type: "boolean" },
      build: { type: "string" },
      partition: { type: "string" },
    },
  });
  if (values.help) return (console.log(USAGE), 0);
  afterMode(values); // a bad --after is refused before anything is read or connected
  const partition = values.partition;
  if (partition !== undefined && positionals.length !== 1) throw new UsageError("usage", `--partition ${partition} takes one FILE (its address is the partition's), got ${positionals.length} argument(s)\n${USAGE}`);
  const regions = partition === undefined ? await regionsToFlash(positionals, values.build) : [await readRegion(0, positionals[0]!)];
  const params = parseHeaderFlags(values, ["keep", "detect"]);

  const quiet = values.json === true;
  const log = quiet ? () => {} : (message: string) => console.error(message);
  const progress = new ProgressLine(process.stderr);
  const { session, reports } = await withSession(values, log, {}, async (session) => {
    if (partition !== undefined) regions[0] = await intoPartition(session, partition, regions[0]!, log);
    const { size, notes } = resolveFlashSize(params.size, session.flashSize);
    for (const note of notes) log(note);
    const header = { mode: params.mode, freq: params.freq, size, chip: session.chip.kind.name };
    const patched = regions.map((region) => {
      if (region.address !== session.chip.kind.bootloaderOffset) return region;
      const { data, note } = patchBootloader(region.data, header);
      if (note) log(note);
      return { ...region, data };
    });
    // As esptool: a size given smaller than the chip's is the limit the images are checked against.
    const limit = size && params.size !== "detect" ? Math.min(bytesOfSizeName(size), session.flashSize) : session.flashSize;
    const reports = await flashImages({ ...session, flashSize: limit }, patched, {
      eraseAll: values["erase-all"],
      onErase: () => log("Erasing the whole flash..."),
      skipUnchanged: !values["no-skip"],
      diff: !values["no-diff"],
      compress: !values["no-compress"],
      onWarning: (warning) => log(`Warning: ${warning.region}: ${warning.message}`),
      onRegionStart: quiet ? undefined : (region, diff) => progress.start(`${region.name} @ ${hex(region.address)}${diff && diff.changedSectors < diff.sectors ? ` (${diff.changedSectors} of ${diff.sectors} sectors changed)` : ""}`),
      onLinkChange: quiet ? undefined : (link) => progress.note(`noisy line: blocks lost, now ${link}`),
      onRepair: (damaged) => log(`Checking the whole plan: ${damaged.map((r) => `${r.name} @ ${hex(r.address)}`).join(", ")} changed after it was verified (a later write landed on it); writing it again`),
      onPlanVerified: quiet ? undefined : (seconds) => log(`Every region verified again after the last write (${seconds.toFixed(2)} s)`),
      onProgress: quiet ? undefined : (_region, p) => progress.update(p.written, p.total),
      onRegionDone: quiet ? undefined : (report) => {
        if (report.skipped) return log(`${report.name} @ ${hex(report.address)}: unchanged (MD5 ${report.md5}), skipped`);
        const kbit = (report.size * 8) / report.seconds / 1000;
        const written = report.changedSectors === undefined || report.changedSectors === report.sectors ? "" : `, ${report.changedSectors} of ${report.sectors} sectors written`;
        progress.finish(`${formatBytes(report.size)} (${formatBytes(report.compressedSize)} compressed${written}) in ${report.seconds.toFixed(2)} s, effective ${kbit.toFixed(0)} kbit/s, MD5 verified`);
      },
    });
    return { session, reports };
  });
  if (quiet) console.log(JSON.stringify({ chip: session.chip.kind.name, mac: session.chip.mac, baud: session.baud, regions: reports.map((r) => ({ ...r, address: hex(r.address) })) }));
  return 0;
}

async function regionsToFlash(positionals: string[], buildDir: string | undefined): Promise<FlashRegion[]> {
  const pairs = addressFilePairs(positionals, USAGE);
  if (pairs.length === 0) {
    const build = lastDeviceBuild(buildDir, findProject());
    if (!build) throw new UsageError("no-build", buildDir ? `no Moddable ESP32 build (xs_esp32.bin) under ${buildDir}` : "nothing to flash: no device build yet. Run `esplab build --device esp32` first, or pass ADDR FILE pairs (e.g. 0x10000 app.bin)");
    pairs.push(...build.images.map((image) => ({ address: image.address, file: image.file })));
  }
  return Promise.all(pairs.map(({ address, file }) => readRegion(address, file)));
}

/** Places a file at its partition's offset, refusing one larger than the partition before anything is written. */
async function intoPartition(session: Session, name: string, region: FlashRegion, log: (message: string) => void): Promise<FlashRegion> {
  const entry = await partitionOnChip(session, name);
  if (region.data.length > entry.size) throw new UsageError("too-big-for-partition", `${region.name} is ${region.data.length} bytes, larger than ${describePartition(entry)}; nothing was written. Shrink the file or enlarge the partition in partitions.csv`);
  log(`${region.name} goes to ${describePartition(entry)}`);
  return { ...region, address: entry.offset };
}
