/**
 * The short version of the readings fault soak (bench/readings-soak.ts): two faults of each kind — broker restart,
 * SIGKILL of the subscriber and of the device, link cuts, a full disk under the store (root only: a tmpfs in a
 * private mount namespace), the database locked — against esplab's broker and mosquitto with persistence. Nothing the
 * device sent may be lost or stored twice. The bench runs the same with ≥ 50 faults per broker.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { SoakReport } from "../../../../bench/soak/run-soak.ts";
import { canUnshareMounts } from "../../../../bench/soak/scratch-disk.ts";
import { mosquittoPath } from "../../../firmware/net/mqtt/brokers.ts";

const root = path.resolve(import.meta.dirname, "../../../..");
const mosquitto = mosquittoPath();
const diskFull = canUnshareMounts();
if (!diskFull) console.warn("NOTICE: not root, or unshare -m is unavailable: the fault soak runs without its full-disk fault");

function soak(broker: "aedes" | "mosquitto"): Promise<SoakReport> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(root, "bench/readings-soak.ts"), "--faults", "12", "--seed", "3", "--brokers", broker, "--json"],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`the soak failed: ${error.message}\n${stderr.slice(-4000)}`));
        const { reports } = JSON.parse(stdout) as { reports: SoakReport[] };
        resolve(reports[0]!);
      },
    ),
  );
}

function expectNothingLost(report: SoakReport): void {
  expect(report.lost).toEqual([]);
  expect(report.duplicatesInStore).toBe(0);
  expect(report.refused).toEqual([]);
  expect(report.excused.length).toBeLessThanOrEqual(report.faults["device-kill"]); // at most the reading numbered at each kill
  expect(report.stored).toBeGreaterThanOrEqual(report.expected);
  expect(report.expected).toBeGreaterThan(50);
  expect(report.faults["broker-restart"] + report.faults["subscriber-kill"] + report.faults["device-kill"] + report.faults["link-cut"] + report.faults["db-locked"]).toBeGreaterThanOrEqual(10);
  expect(report.lockMet).toBe(report.faults["db-locked"]); // each lock reached the store, and was waited out
  if (diskFull) {
    expect(report.faults["disk-full"]).toBe(2);
    expect(report.diskFullMet).toBeGreaterThan(0); // the store met the full disk, and the reading was stored later
  } else expect(report.skipped.join()).toMatch(/disk-full/);
}

describe("the readings path under faults", () => {
  it("against esplab's broker (aedes with --data): nothing lost, nothing stored twice", async () => {
    expectNothingLost(await soak("aedes"));
  }, 600_000);

  (mosquitto ? it : it.skip)("against mosquitto with persistence: nothing lost, nothing stored twice", async () => {
    expectNothingLost(await soak("mosquitto"));
  }, 600_000);
});
