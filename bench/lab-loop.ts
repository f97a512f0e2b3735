/**
 * The lab's edit-run loop, timed on the XS engine against a temporary copy of firmware/ (board-check):
 *  - save → LCD changed: a save of apps/board-check.ts that changes the LCD's second line, until the LCD part shows
 *    it (the watcher's debounce, the build on the worker thread, the reset and the app's first redraw);
 *  - Reset → running: the page's Reset (the current bundle started again), until the firmware runs and until its
 *    first serial line; beside it, in the same run, the Reset the lab had before (a rebuild first, on the main thread);
 *  - the longest the main thread went without answering during a save (what the page feels).
 * Run: npm run bench:lab-loop [-- --runs N]
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { BackgroundBuilder } from "../host-tools/build/background-builder.ts";
import { buildFirmwareBundle } from "../host-tools/build/firmware-bundle.ts";
import { FirmwareRunner } from "../host-tools/lab/firmware-runner.ts";
import { watchSources } from "../host-tools/lab/source-watcher.ts";
import { VirtualDevice } from "../host-tools/runtime/virtual-device.ts";
import { copyFirmware } from "../test/support/firmware-copy.ts";
import { esplabProject } from "../host-tools/project/project.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const RUNS = Number(values.runs);
const DEBOUNCE_MS = 150; // what `esplab lab` uses
const APP = "apps/board-check.ts";

const tree = copyFirmware();
const device = new VirtualDevice({ config: { app: "board-check" }, engine: "xs" });
const builder = new BackgroundBuilder();
const firmware = new FirmwareRunner({ device, build: () => builder.build("xs", esplabProject(tree.root)) });
const lcd = device.board.parts.find((part) => part.type === "lcd1602-i2c")!;
const lcdText = () => (lcd.snapshot() as { lines: string[] }).lines.join("|");
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const waitFor = async (condition: () => boolean, what: string) => {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};
/** The longest gap between 5 ms ticks of the main thread while `run` runs. */
async function longestStall(run: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  await run();
  clearInterval(timer);
  return worst;
}

try {
  await firmware.rebuild();
  if (firmware.status.state !== "running") throw new Error(`the firmware did not start: ${firmware.status.problem?.message}`);
  const stopWatching = watchSources([path.join(tree.root, "firmware")], () => firmware.rebuild(), DEBOUNCE_MS);

  const saves: number[] = [];
  const stalls: number[] = [];
  const builds: number[] = [];
  let buildStarted = 0;
  firmware.listen((status) => {
    if (status.state === "building") buildStarted = performance.now();
    if (status.state === "resetting" && buildStarted) builds.push(performance.now() - buildStarted);
    if (status.state !== "building") buildStarted = 0;
  });
  for (let run = 1; run <= RUNS; run++) {
    const marker = `E${run}`;
    const start = performance.now();
    stalls.push(
      await longestStall(async () => {
        tree.edit(APP, (text) => text.replace(/`(servo|E\d+) \$\{angle\}/, `\`${marker} \${angle}`));
        await waitFor(() => lcdText().includes(`${marker} `), `the LCD to show ${marker}`);
      }),
    );
    saves.push(performance.now() - start);
  }
  stopWatching();

  const resets: number[] = [];
  const resetsToSerial: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const lines = device.serial.lines.length;
    const start = performance.now();
    await firmware.reset();
    resets.push(performance.now() - start);
    await waitFor(() => device.serial.lines.slice(lines).some((line) => line.text.startsWith("esplab firmware: app")), "the firmware's first line");
    resetsToSerial.push(performance.now() - start);
  }

  // The Reset the lab had before: the bundle rebuilt on the main thread, then the restart. (This build reuses its
  // last program, as every build does now, so it is shorter than the old Reset was: it fully re-checked each time.)
  const oldResets: number[] = [];
  const oldStalls: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const start = performance.now();
    oldStalls.push(await longestStall(async () => device.restart(await buildFirmwareBundle("xs", esplabProject(tree.root)))));
    oldResets.push(performance.now() - start);
  }

  const ms = (value: number) => `${Math.round(value)} ms`;
  console.log(`lab edit-run loop, XS engine, board-check, ${RUNS} runs each (medians; watcher debounce ${DEBOUNCE_MS} ms)`);
  console.log(`  save → LCD changed            ${ms(median(saves))}   (all: ${saves.map(ms).join(", ")})`);
  console.log(`  of which the build            ${ms(median(builds))} (on the worker thread)`);
  console.log(`  main thread's longest stall   ${ms(median(stalls))} during a save`);
  console.log(`  Reset → running               ${ms(median(resets))}   (all: ${resets.map(ms).join(", ")})`);
  console.log(`  Reset → firmware's first line ${ms(median(resetsToSerial))}`);
  console.log(`  Reset as before (rebuild on the main thread, then reset) ${ms(median(oldResets))}, the main thread stalled ${ms(median(oldStalls))}`);
} finally {
  await firmware.stop();
  await builder.close();
  tree.remove();
}
