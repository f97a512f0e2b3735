/**
 * The readings path under faults (see bench/soak/run-soak.ts): ≥ 50 faults per broker — broker restarts, SIGKILL of
 * the subscriber and of the device, link cuts, a full disk under the store, the database locked — then lost,
 * duplicated and reordered readings against the device's sequence numbers, for mosquitto and esplab's own broker.
 * As root it runs itself in a private mount namespace, where the full disk is a small tmpfs; otherwise that one fault
 * is skipped and the report says so.
 *
 * usage: npx tsx bench/readings-soak.ts [--faults 60] [--seed 1] [--brokers mosquitto,aedes] [--json]
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { canUnshareMounts, NAMESPACE_MARK } from "./soak/scratch-disk.ts";
import { runSoak, type SoakReport } from "./soak/run-soak.ts";

const { values } = parseArgs({
  options: { faults: { type: "string", default: "60" }, seed: { type: "string", default: "1" }, brokers: { type: "string", default: "mosquitto,aedes" }, json: { type: "boolean", default: false } },
});

if (process.env[NAMESPACE_MARK] !== "1" && canUnshareMounts()) {
  const inner = spawnSync("unshare", ["-m", "--propagation", "private", process.execPath, ...process.execArgv, import.meta.filename, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, [NAMESPACE_MARK]: "1" },
  });
  process.exit(inner.status ?? 1);
}

const faults = Number(values.faults);
const seed = Number(values.seed);
const brokers = values.brokers.split(",") as ("mosquitto" | "aedes")[];
const mosquitto = spawnSync("sh", ["-c", "command -v mosquitto || ls /usr/sbin/mosquitto"], { encoding: "utf8" }).stdout.trim().split("\n")[0] || undefined;
const say = (line: string) => (values.json ? process.stderr.write(`${line}\n`) : console.log(line));

const reports: SoakReport[] = [];
const notRun: string[] = [];
for (const broker of brokers) {
  if (broker === "mosquitto" && !mosquitto) {
    notRun.push("mosquitto: not installed (apt-get install mosquitto)");
    continue;
  }
  say(`\n== ${broker}: ${faults} faults, seed ${seed}`);
  reports.push(await runSoak({ broker, mosquitto, faults, seed, log: say }));
}

if (values.json) console.log(JSON.stringify({ reports, notRun }));
else {
  console.log("\n| broker | faults | numbered | expected | stored | lost | dup in store | redeliveries | reordered | excused | refused | disk full / lock reached the store | seconds |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of reports) {
    const total = Object.values(r.faults).reduce((a, b) => a + b, 0);
    const kinds = Object.entries(r.faults).map(([kind, n]) => `${kind} ${n}`).join(", ");
    console.log(
      `| ${r.broker} | ${total} (${kinds}) | ${r.numbered} | ${r.expected} | ${r.stored} | ${r.lost.length} | ${r.duplicatesInStore} | ${r.redeliveries} | ${r.reordered} | ${r.excused.length} | ${r.refused.length} | ${r.diskFullMet}/${r.faults["disk-full"]} / ${r.lockMet}/${r.faults["db-locked"]} | ${r.seconds.toFixed(0)} |`,
    );
    if (r.lost.length) console.log(`  lost: ${r.lost.join(", ")}`);
    if (r.skipped.length) console.log(`  not injected — ${r.skipped.join("; ")}`);
  }
  for (const line of notRun) console.log(line);
}
process.exitCode = reports.some((r) => r.lost.length > 0 || r.duplicatesInStore > 0) ? 1 : 0;
