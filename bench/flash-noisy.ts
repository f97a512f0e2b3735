/**
 * Time to finish a flash on a noisy line: the simulated ESP32 in modelled real time (UART at 10 bits per byte at the
 * negotiated baud, W25Q32 erase/program times) damages one bit of a byte, in either direction, at each rate in turn.
 * Three flashers write the standard set (bootloader, partition table, 600 KB app) at 921600 baud onto a fresh chip in
 * the same run: esplab as it is (adaptive blocks and baud, whole-plan check), esplab with its first link setting kept
 * (16 KB blocks: what it did before), and esptool-js. A run counts as finished only if it returned without an error
 * and the flash holds every image. Seeded: the same seed damages the same bytes of the same traffic.
 * Run: npm run bench:flash-noisy [SEED]
 */
import { readFileSync } from "node:fs";
import { SocketLink } from "../host-tools/flash/link/socket-link.ts";
import type { FlashRegion } from "../host-tools/flash/image/plan.ts";
import { flashImages } from "../host-tools/flash/operations/flash-images.ts";
import { openSession } from "../host-tools/flash/operations/session.ts";
import { flashWithEsptoolJs } from "../host-tools/flash/peers/esptool-js.ts";
import { startChipSimulator } from "../host-tools/flash/sim/server.ts";
import { SimulatedFlash } from "../host-tools/flash/sim/spi-flash.ts";

const SEED = Number(process.argv[2] ?? 1);
const BAUD = 921600;
const RATES = [0, 1e-5, 1e-4, 3e-4];
/** A run still going after this long is stopped and counted as not finished. */
const GIVE_UP_S = 180;

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../test/fixtures/esp32/${name}`, import.meta.url)));
const regions: FlashRegion[] = [
  { address: 0x1000, name: "bootloader", data: fixture("bootloader_esp32.bin") },
  { address: 0x8000, name: "partition table", data: fixture("partitions_singleapp.bin") },
  { address: 0x10000, name: "app", data: fixture("esp32-app-template.bin") },
];

type Flasher = (url: string, notes: string[]) => Promise<void>;

const esplab = (adaptLink: boolean): Flasher => async (url, notes) => {
  const session = await openSession({ link: await SocketLink.open(url, 115200), baud: BAUD });
  try {
    await flashImages(session, regions, {
      adaptLink,
      onLinkChange: (link) => notes.push(link),
      onRepair: (damaged) => notes.push(`rewrote ${damaged.map((r) => r.name).join(", ")}`),
      onPlanVerified: (seconds) => notes.push(`plan check ${seconds.toFixed(2)} s`),
    });
  } finally {
    await session.close();
  }
};

const esptoolJs: Flasher = async (url) => {
  await flashWithEsptoolJs(url, regions, BAUD);
};

interface Outcome { seconds: number; finished: boolean; notes: string[]; error?: string }

async function run(flasher: Flasher, corruptRate: number): Promise<Outcome> {
  const flash = SimulatedFlash.inMemory();
  const simulator = await startChipSimulator({ flash, timeScale: 1, faults: { seed: SEED, corruptRate } });
  const notes: string[] = [];
  const start = performance.now();
  let error: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const giveUp = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still going after ${GIVE_UP_S} s`)), GIVE_UP_S * 1000)));
    await Promise.race([flasher(simulator.url, notes), giveUp]);
  } catch (caught) {
    error = (caught as Error).message.split("\n")[0]!.slice(0, 90);
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - start) / 1000;
  await simulator.close();
  const holds = regions.every((region) => Buffer.from(flash.read(region.address, region.data.length)).equals(Buffer.from(region.data)));
  return { seconds, finished: error === undefined && holds, notes, error: error ?? (holds ? undefined : "returned, but the flash does not hold the images") };
}

const flashers: Array<[string, Flasher]> = [["esplab", esplab(true)], ["esplab, 16 KB fixed", esplab(false)], ["esptool-js", esptoolJs]];
console.log(`Flashing ${regions.length} regions (${(regions.reduce((sum, r) => sum + r.data.length, 0) / 1024).toFixed(0)} KB) at ${BAUD} baud on the simulated ESP32 (modelled real time), bytes damaged at each rate, seed ${SEED}\n`);
console.log(`| damaged bytes | ${flashers.map(([name]) => name).join(" | ")} |`);
console.log(`|---|${flashers.map(() => "---").join("|")}|`);
const details: string[] = [];
for (const rate of RATES) {
  const cells: string[] = [];
  for (const [name, flasher] of flashers) {
    const outcome = await run(flasher, rate);
    cells.push(outcome.finished ? `${outcome.seconds.toFixed(2)} s` : `failed after ${outcome.seconds.toFixed(1)} s`);
    if (outcome.notes.length > 0 || outcome.error) details.push(`  ${rate} ${name}: ${[...outcome.notes, ...(outcome.error ? [outcome.error] : [])].join("; ")}`);
  }
  console.log(`| ${rate === 0 ? "0" : rate.toExponential(0)} | ${cells.join(" | ")} |`);
}
console.log(`\nWhat happened on the way:\n${details.join("\n")}`);
