import { spawn, type ChildProcess } from "node:child_process";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import type { FaultOptions } from "../flash/sim/faults.ts";
import { CHIP_NAMES, chipByName } from "../flash/chips/known-chips.ts";
import { chipProfile } from "../flash/sim/chip-profiles.ts";
import { startChipSimulator } from "../flash/sim/server.ts";
import { SimulatedFlash } from "../flash/sim/spi-flash.ts";
import { parseAmount } from "../flash/operations/numbers.ts";

const USAGE = `usage: esplab chip-sim [--tcp PORT] [--pty PATH] [options]
A simulated ESP32-family chip in download mode (ROM loader, and the flasher stub once uploaded) with a 4 MB SPI
flash. Point any esplab chip command, esptool or esptool-js at it: esplab chip-info --port socket://127.0.0.1:PORT

  --chip CHIP            ${CHIP_NAMES.join(" | ")} (default esp32)
  --tcp PORT             listen on 127.0.0.1:PORT (default 5555; 0 picks a free port)
  --pty PATH             also expose it as a pseudo-terminal at PATH (needs socat)
  --flash FILE           keep the flash in FILE (created erased if missing) instead of memory
  --flash-size SIZE      flash size (default 4M)
  --real-time            model wire and flash time (UART 10 bits per byte at the negotiated baud, W25Q32 erase and
                         program times); without it everything is instant
  --time-scale N         like --real-time but N times the modelled durations (0.1 = ten times faster)
faults (all per byte, seeded and reproducible):
  --drop P               lose each byte with probability P
  --corrupt P            flip a bit in each byte with probability P
  --latency MS           delay every reply by MS
  --disconnect-after N   drop the connection after the host sent N bytes
  --unreliable-above B   above B baud, corrupt bytes with probability --unreliable-rate (default 0.02)
  --unreliable-rate P
  --seed N               fault generator seed (default 1)`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      chip: { type: "string" },
      tcp: { type: "string" },
      pty: { type: "string" },
      flash: { type: "string" },
      "flash-size": { type: "string" },
      "real-time": { type: "boolean" },
      "time-scale": { type: "string" },
      drop: { type: "string" },
      corrupt: { type: "string" },
      latency: { type: "string" },
      "disconnect-after": { type: "string" },
      "unreliable-above": { type: "string" },
      "unreliable-rate": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return (console.log(USAGE), 0);
  const chip = chipByName(values.chip ?? "esp32");
  if (!chip) throw new UsageError("bad-chip", `--chip ${values.chip}: use one of ${CHIP_NAMES.join(", ")}`);
  const size = values["flash-size"] ? parseAmount(values["flash-size"], "--flash-size") : 4 * 1024 * 1024;
  const flash = values.flash ? SimulatedFlash.fileBacked(values.flash, size) : SimulatedFlash.inMemory(size);
  const timeScale = values["time-scale"] !== undefined ? probability(values["time-scale"], "--time-scale", 1000) : values["real-time"] ? 1 : 0;
  const faults: FaultOptions = {
    dropRate: optional(values.drop, "--drop"),
    corruptRate: optional(values.corrupt, "--corrupt"),
    latencyMs: values.latency === undefined ? undefined : parseAmount(values.latency, "--latency"),
    disconnectAfterBytes: values["disconnect-after"] === undefined ? undefined : parseAmount(values["disconnect-after"], "--disconnect-after"),
    unreliableAbove: values["unreliable-above"] === undefined ? undefined : parseAmount(values["unreliable-above"], "--unreliable-above"),
    unreliableRate: optional(values["unreliable-rate"], "--unreliable-rate"),
    seed: values.seed === undefined ? undefined : parseAmount(values.seed, "--seed"),
  };
  const simulator = await startChipSimulator({ port: values.tcp === undefined ? 5555 : parseAmount(values.tcp, "--tcp"), flash, timeScale, faults, chip: chip.name });
  const profile = chipProfile(chip.name);
  const powerOn = profile.words(profile.defaultMac);
  const { description } = await chip.describe(async (address) => powerOn.get(address) ?? 0);
  console.log(`Simulated ${chip.label} (${description}, ${size / (1024 * 1024)} MB flash${values.flash ? ` in ${values.flash}` : ""}) on ${simulator.url}`);
  const bridge = values.pty ? bridgePty(values.pty, simulator.port) : undefined;
  if (values.pty) console.log(`Also on the pseudo-terminal ${values.pty} (no DTR/RTS lines: use --before no-reset)`);
  console.log("Press Ctrl-C to stop.");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  bridge?.stop();
  await simulator.close();
  flash.close();
  return 0;
}

function optional(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : probability(text, flag, 1);
}

function probability(text: string, flag: string, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > max) throw new UsageError("bad-option", `${flag} ${text}: expected a number from 0 to ${max}`);
  return value;
}

/** socat turns the TCP port into a pty; it is restarted whenever a host closes the pty. */
function bridgePty(path: string, port: number): { stop(): void } {
  let child: ChildProcess | undefined;
  let restart: NodeJS.Timeout | undefined;
  let stopped = false;
  const start = () => {
    if (stopped) return;
    child = spawn("socat", [`pty,raw,echo=0,link=${path},wait-slave`, `tcp:127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", (error) => {
      console.error(`esplab chip-sim: cannot start socat for --pty (${error.message}); install it with: sudo apt-get install socat`);
      stopped = true;
    });
    child.on("exit", () => {
      if (!stopped) restart = setTimeout(start, 100);
    });
  };
  start();
  return {
    stop() {
      stopped = true;
      clearTimeout(restart);
      // socat waiting for the pty to be opened ignores SIGTERM.
      child?.kill("SIGKILL");
    },
  };
}
