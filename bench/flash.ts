/**
 * Flashing speed on the simulated ESP32 in modelled real time (UART at 10 bits per byte at the negotiated baud,
 * W25Q32 erase/program times): esplab and esptool-js flash the same set at 921600 baud in the same run, each onto a
 * fresh chip. Both use the flasher stub and compression and check MD5s. Prints each wall time, the line-rate limit
 * (compressed bytes × 10 / baud + the erase time that cannot overlap the transfer) and the time to re-flash the
 * unchanged set (esplab compares MD5s and skips; esptool-js writes again). Then the re-flash after a one-line change to
 * the app (test/support/rebuilt-app.ts: made from the real fixture, no ESP-IDF here to rebuild it), each run onto a
 * chip holding the original set: esplab whole-region (--no-diff), esplab's block diff at three granularities, and
 * esptool-js; through the stub and through the ROM loader.
 * Run: npm run bench:flash [BAUD]
 */
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { SocketLink } from "../host-tools/flash/link/socket-link.ts";
import { flashImages, type FlashOptions } from "../host-tools/flash/operations/flash-images.ts";
import { openSession } from "../host-tools/flash/operations/session.ts";
import { flashWithEsptoolJs } from "../host-tools/flash/peers/esptool-js.ts";
import { startChipSimulator, type ChipSimulator } from "../host-tools/flash/sim/server.ts";
import { BLOCK, FLASH_TIMING, SimulatedFlash } from "../host-tools/flash/sim/spi-flash.ts";
import { BITS_PER_BYTE } from "../host-tools/flash/sim/uart.ts";
import type { FlashRegion } from "../host-tools/flash/image/plan.ts";
import { oneLineChange } from "../test/support/rebuilt-app.ts";

const BAUD = Number(process.argv[2] ?? 921600);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../test/fixtures/esp32/${name}`, import.meta.url)));

/** 1 MiB of app-like data: the app fixture's bytes repeated, 1 byte in 16 replaced by seeded noise. */
function appLikeMegabyte(app: Uint8Array): Uint8Array {
  const out = new Uint8Array(1024 * 1024);
  let state = 12345;
  for (let i = 0; i < out.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = (state >>> 24) % 16 === 0 ? state & 0xff : app[i % app.length]!;
  }
  out[0] = 0; // data, not a bootable image
  return out;
}

const app = fixture("esp32-app-template.bin");
const regions: FlashRegion[] = [
  { address: 0x1000, name: "bootloader", data: fixture("bootloader_esp32.bin") },
  { address: 0x8000, name: "partition table", data: fixture("partitions_singleapp.bin") },
  { address: 0x10000, name: "app (600 KB fixture)", data: app },
  { address: 0x110000, name: "app-like 1 MiB", data: appLikeMegabyte(app) },
];

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await work();
  return [(performance.now() - start) / 1000, result];
}

async function withSimulator<T>(flash: SimulatedFlash, work: (simulator: ChipSimulator) => Promise<T>): Promise<T> {
  const simulator = await startChipSimulator({ flash, timeScale: 1 });
  try {
    return await work(simulator);
  } finally {
    await simulator.close();
  }
}

async function esplabFlash(flash: SimulatedFlash, set = regions, options: FlashOptions & { stub?: boolean } = {}): Promise<number> {
  return withSimulator(flash, async (simulator) => {
    const [seconds] = await timed(async () => {
      const session = await openSession({ link: await SocketLink.open(simulator.url, 115200), baud: BAUD, stub: options.stub });
      await flashImages(session, set, options);
      await session.close();
    });
    return seconds;
  });
}

async function esptoolJsFlash(flash: SimulatedFlash, set = regions): Promise<number> {
  return withSimulator(flash, async (simulator) => (await timed(() => flashWithEsptoolJs(simulator.url, set, BAUD)))[0]);
}

/** A chip holding `set`, as a flash of it leaves one. */
function holding(set: FlashRegion[]): SimulatedFlash {
  const flash = SimulatedFlash.inMemory();
  for (const region of set) flash.program(region.address, region.data);
  return flash;
}

function holds(flash: SimulatedFlash, set: FlashRegion[]): boolean {
  return set.every((region) => Buffer.from(flash.read(region.address, region.data.length)).equals(Buffer.from(region.data)));
}

/** Erase time the stub cannot hide: what is left of the last region's erase/program after its last block arrives is small; the erase of each region's first block is paid before the transfer can continue. */
function lineRateLimit(): { seconds: number; compressed: number; eraseSeconds: number } {
  let compressed = 0;
  let eraseMs = 0;
  for (const region of regions) {
    compressed += deflateSync(region.data, { level: 9 }).length;
    const blocks = Math.floor(region.data.length / BLOCK);
    const sectors = Math.ceil((region.data.length - blocks * BLOCK) / 0x1000);
    eraseMs += blocks * FLASH_TIMING.blockEraseMs + sectors * FLASH_TIMING.sectorEraseMs;
  }
  return { seconds: (compressed * BITS_PER_BYTE) / BAUD + eraseMs / 1000, compressed, eraseSeconds: eraseMs / 1000 };
}

const total = regions.reduce((sum, region) => sum + region.data.length, 0);
const limit = lineRateLimit();
console.log(`Flashing ${regions.length} regions, ${(total / 1024).toFixed(0)} KB (${(limit.compressed / 1024).toFixed(0)} KB compressed) at ${BAUD} baud on the simulated ESP32 (modelled real time)\n`);

const ourFlash = SimulatedFlash.inMemory();
const theirFlash = SimulatedFlash.inMemory();
const esplab = await esplabFlash(ourFlash);
const esptoolJs = await esptoolJsFlash(theirFlash);
const esplabAgain = await esplabFlash(ourFlash);
const esptoolJsAgain = await esptoolJsFlash(theirFlash);
const identical = Buffer.from(ourFlash.read(0, ourFlash.size)).equals(Buffer.from(theirFlash.read(0, theirFlash.size)));

const row = (name: string, first: number, again: number) => `| ${name.padEnd(10)} | ${first.toFixed(2).padStart(9)} s | ${again.toFixed(2).padStart(16)} s |`;
console.log("| tool       | flash set   | re-flash unchanged |");
console.log("|------------|-------------|--------------------|");
console.log(row("esplab", esplab, esplabAgain));
console.log(row("esptool-js", esptoolJs, esptoolJsAgain));
console.log(`\nLine-rate limit: ${limit.seconds.toFixed(2)} s = ${limit.compressed} compressed bytes × ${BITS_PER_BYTE} / ${BAUD} + ${limit.eraseSeconds.toFixed(2)} s of erase`);
console.log(`(the stub overlaps most erasing with the transfer, so a flasher can beat this sum; the transfer alone is ${((limit.compressed * BITS_PER_BYTE) / BAUD).toFixed(2)} s)`);
console.log(`Flash contents after both tools: ${identical ? "identical" : "DIFFERENT"}`);

const rebuilt = regions.map((region) => (region.address === 0x10000 ? { ...region, data: oneLineChange(region.data) } : region));
const appBefore = regions.find((region) => region.address === 0x10000)!.data;
const appAfter = rebuilt.find((region) => region.address === 0x10000)!.data;
const bytesChanged = appBefore.reduce((count, byte, i) => count + (byte !== appAfter[i] ? 1 : 0), 0);
console.log(`\nRe-flash after a one-line change to the app (${bytesChanged} bytes differ: its description's time and ELF SHA-256, ${300} bytes of code in the middle, checksum and SHA-256), onto a chip holding the set above:\n`);
const variants: Array<[string, () => Promise<number>]> = [
  ["esplab --no-diff (changed region whole)", () => esplabFlash(holding(regions), rebuilt, { diff: false })],
  ["esplab diff: 64 KB blocks, then 4 KB sectors", () => esplabFlash(holding(regions), rebuilt)],
  ["esplab diff: 4 KB sectors only", () => esplabFlash(holding(regions), rebuilt, { diffLevels: [0x1000] })],
  ["esplab diff: 64 KB blocks only", () => esplabFlash(holding(regions), rebuilt, { diffLevels: [0x10000] })],
  ["esptool-js", () => esptoolJsFlash(holding(regions), rebuilt)],
  ["esplab --no-stub --no-diff (ROM loader)", () => esplabFlash(holding(regions), rebuilt, { diff: false, stub: false })],
  ["esplab --no-stub (ROM loader), diff", () => esplabFlash(holding(regions), rebuilt, { stub: false })],
  ["esplab --no-stub (ROM loader), unchanged", () => esplabFlash(holding(rebuilt), rebuilt, { stub: false })],
];
const measured: Array<[string, number]> = [["esplab, re-flash unchanged (above)", esplabAgain]];
for (const [name, run] of variants) measured.push([name, await run()]);
const whole = measured[1]![1];
const romWhole = measured.find(([name]) => name.startsWith("esplab --no-stub --no-diff"))![1];
console.log("| tool | one-line change | vs esplab's first flash | vs writing the region whole |");
console.log("|---|---|---|---|");
for (const [name, seconds] of measured) {
  const base = name.includes("ROM") ? romWhole : whole;
  console.log(`| ${name} | ${seconds.toFixed(2)} s | ${((100 * seconds) / esplab).toFixed(0)} % | ${((100 * seconds) / base).toFixed(0)} % |`);
}
const check = holding(regions);
await esplabFlash(check, rebuilt);
console.log(`\nAfter the diff re-flash the chip holds the rebuilt set: ${holds(check, rebuilt) ? "yes" : "NO"}`);
