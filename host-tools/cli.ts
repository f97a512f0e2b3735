import { EsplabError } from "../firmware/core/errors.ts";

/** A subcommand: `run` gets the arguments after its name and returns the exit code. */
export interface Command {
  run(args: string[]): Promise<number>;
}

interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

/** One line per subcommand; each lives in host-tools/commands/<name>.ts and is loaded only when used. */
const commands: Record<string, Entry> = {
  // on the laptop
  new: { summary: "make your own firmware project: an app, its wiring, a starter scenario (then npm install && npm start)", load: () => import("./commands/new.ts") },
  wiring: { summary: "check a board's wiring (esplab's or a Wokwi diagram.json) and convert between the two", load: () => import("./commands/wiring.ts") },
  dashboard: { summary: "live charts of every device's readings in a readings store, with time range, device filter and CSV", load: () => import("./commands/dashboard.ts") },
  iot: { summary: "a local AWS IoT Core: things with X.509 certificates, mutual TLS, policies, shadows and jobs", load: () => import("./commands/iot.ts") },
  lab: { summary: "the virtual board, the local cloud and the lab page (what npm start runs)", load: () => import("./commands/lab.ts") },
  test: { summary: "a project's npm test: type check as device code, both bundles, then its scenarios", load: () => import("./commands/test.ts") },
  scenario: { summary: "run scenario files headless on the virtual board (exit code for CI)", load: () => import("./commands/scenario.ts") },
  grade: { summary: "grade a class: every student's project × every scenario, isolated and in parallel; table, JSON, JUnit, HTML", load: () => import("./commands/grade.ts") },
  build: { summary: "bundle the firmware; with --device esp32, build the device images with mcconfig", load: () => import("./commands/build.ts") },
  moddable: { summary: "build Moddable's command-line tools from an SDK archive into esplab's cache; doctor checks SDK and ESP-IDF", load: () => import("./commands/moddable.ts") },
  cloud: { summary: "the local cloud: Firebase emulator (RTDB + Auth) and MQTT broker", load: () => import("./commands/cloud.ts") },
  broker: { summary: "the local MQTT broker alone (aedes), optionally with a user name and password", load: () => import("./commands/broker.ts") },
  readings: { summary: "store readings from sensor/# in SQLite (subscribe) and export them as CSV", load: () => import("./commands/readings.ts") },
  "firebase-token": { summary: "sign a user in on the laptop and print tokens for a device's ID-token mode", load: () => import("./commands/firebase-token.ts") },
  // with a board (or the simulated chip)
  ports: { summary: "list the USB serial ports a board could be on, with their adapters (no udevadm needed)", load: () => import("./commands/ports.ts") },
  "chip-info": { summary: "connect to a board in download mode: chip, revision, features, MAC, flash size", load: () => import("./commands/chip-info.ts") },
  flash: { summary: "write images (or the last device build) to flash, skip unchanged regions, verify by MD5", load: () => import("./commands/flash.ts") },
  "read-flash": { summary: "read flash into a file (MD5-checked)", load: () => import("./commands/read-flash.ts") },
  "erase-flash": { summary: "erase the whole flash", load: () => import("./commands/erase-flash.ts") },
  "erase-region": { summary: "erase a 4 KB-aligned region of flash", load: () => import("./commands/erase-region.ts") },
  "efuse-summary": { summary: "read the ESP32's eFuses (read-only) and decode them as espefuse's summary", load: () => import("./commands/efuse-summary.ts") },
  "merge-bin": { summary: "merge images into one file for web flashers (raw or Intel HEX), as esptool's merge-bin", load: () => import("./commands/merge-bin.ts") },
  "partition-table": { summary: "print an ESP-IDF partition table as CSV, from a file or read from a board", load: () => import("./commands/partition-table.ts") },
  "image-info": { summary: "print an ESP32 .bin image's header, segments, checksum, hash and app info (esptool image_info v2)", load: () => import("./commands/image-info.ts") },
  monitor: { summary: "serial console: boot lines explained, Moddable trace/exceptions readable, Ctrl-R reset, Ctrl-] quit", load: () => import("./commands/monitor.ts") },
  "chip-sim": { summary: "a simulated ESP32 in download mode on a TCP port or pseudo-terminal, with fault injection", load: () => import("./commands/chip-sim.ts") },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    printHelp();
    return name ? 0 : 1;
  }
  if (name === "--version") {
    const { default: pkg } = await import("../package.json", { with: { type: "json" } });
    console.log(pkg.version);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`esplab: unknown command "${name}". Run "esplab help" to see the commands.`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (error) {
    if (error instanceof EsplabError) {
      console.error(`esplab ${name}: ${error.message}`);
      return 1;
    }
    // Node's own option parser: an unknown option or a missing value is the user's mistake, not a crash.
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      console.error(`esplab ${name}: ${(error as Error).message.split(". To specify")[0]} — see "esplab ${name} --help"`);
      return 2;
    }
    throw error;
  }
}

function printHelp(): void {
  console.log("usage: esplab <command> [options]\n\ncommands:");
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  for (const [name, entry] of Object.entries(commands)) console.log(`  ${name.padEnd(width)}  ${entry.summary}`);
  console.log('\nRun "esplab <command> --help" for a command\'s options.');
}
