/**
 * Virtual time, measured: every shipped scenario (or the files given) runs `--runs` times (default 20) on each engine,
 * the first half alone and the second half with every core saturated by busy loops. Every run must give the same
 * steps, outcomes, messages and virtual step times; the table shows the virtual time of the steps and how much
 * faster than real time they ran (virtual / wall, the steps alone, without starting the cloud and the firmware).
 *
 *   npm run bench:scenarios                          # node and xs, 20 runs each
 *   npm run bench:scenarios -- --runs 4 --engine xs test/scenarios/assignment2.yaml
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildFirmwareBundle } from "../host-tools/build/firmware-bundle.ts";
import { scenarioFingerprint } from "../host-tools/scenario/fingerprint.ts";
import { runScenarioFile } from "../host-tools/scenario/session.ts";
import { saturateCores } from "../test/support/cpu-load.ts";

const { values, positionals } = parseArgs({
  options: { runs: { type: "string", default: "20" }, engine: { type: "string", multiple: true } },
  allowPositionals: true,
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 2) {
  console.error("bench/scenario-speed: --runs must be a whole number of at least 2 (half run alone, half under load)");
  process.exit(2);
}
const engines = (values.engine ?? ["node", "xs"]) as ("node" | "xs")[];
if (engines.some((engine) => engine !== "node" && engine !== "xs")) {
  console.error("bench/scenario-speed: --engine is node or xs (Moddable's runtime keeps real time)");
  process.exit(2);
}
const dir = path.resolve(import.meta.dirname, "../test/scenarios");
const files = positionals.length ? positionals : fs.readdirSync(dir).filter((name) => name.endsWith(".yaml")).sort().map((name) => path.join(dir, name));
const bundleFile = engines.includes("xs") ? await buildFirmwareBundle("xs") : undefined;

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

interface Row {
  scenario: string;
  engine: string;
  passed: boolean;
  identical: number;
  virtualMs: number;
  aloneWallMs: number;
  loadedWallMs: number;
}
const rows: Row[] = [];
for (const engine of engines) {
  for (const file of files) {
    let first: string[] | undefined;
    let identical = 0;
    let passed = true;
    let virtualMs = 0;
    const walls: { alone: number[]; loaded: number[] } = { alone: [], loaded: [] };
    for (let run = 0; run < runs; run++) {
      const loaded = run >= runs / 2;
      const load = loaded ? saturateCores() : undefined;
      let stepsFrom = 0;
      try {
        const { result } = await runScenarioFile(file, { engine, bundleFile, beforeSteps: async () => void (stepsFrom = performance.now()) });
        const wall = performance.now() - stepsFrom;
        (loaded ? walls.loaded : walls.alone).push(wall);
        const print = scenarioFingerprint(result);
        first ??= print;
        if (JSON.stringify(print) === JSON.stringify(first)) identical++;
        else console.error(`${path.basename(file)} on ${engine}, run ${run + 1}: differs from run 1:\n  ${print.filter((line, i) => line !== first![i]).join("\n  ")}`);
        passed &&= result.passed;
        virtualMs = result.results.reduce((sum, step) => sum + step.ms, 0);
      } finally {
        await load?.stop();
      }
    }
    const row = { scenario: path.basename(file, ".yaml"), engine, passed, identical, virtualMs, aloneWallMs: median(walls.alone), loadedWallMs: median(walls.loaded) };
    rows.push(row);
    console.error(`${row.scenario} on ${engine}: ${identical}/${runs} identical, ${(virtualMs / row.aloneWallMs).toFixed(1)}x alone, ${(virtualMs / row.loadedWallMs).toFixed(1)}x loaded`);
  }
}

console.log(`\n${runs} runs of each scenario per engine (${runs / 2} alone, ${runs / 2} with every core busy); speed = virtual time of the steps / median wall time of the steps\n`);
console.log("| scenario | engine | passed | identical runs | virtual time | speed alone | speed loaded |");
console.log("|---|---|---|---|---|---|---|");
for (const row of rows) {
  console.log(
    `| ${row.scenario} | ${row.engine} | ${row.passed ? "yes" : "NO"} | ${row.identical}/${runs} | ${(row.virtualMs / 1000).toFixed(2)} s | ${(row.virtualMs / row.aloneWallMs).toFixed(1)}x | ${(row.virtualMs / row.loadedWallMs).toFixed(1)}x |`,
  );
}
process.exit(rows.every((row) => row.passed && row.identical === runs) ? 0 : 1);
