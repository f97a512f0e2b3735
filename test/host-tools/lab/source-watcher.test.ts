import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchSources } from "../../../host-tools/lab/source-watcher.ts";
import { until } from "../../support/until.ts";

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let directory: string;
let stop = () => {};
afterEach(() => {
  stop();
  rmSync(directory, { recursive: true, force: true });
});

describe("watchSources (the lab's reload on edit)", () => {
  it("reloads once per burst of .ts edits, in nested folders, and ignores other files", async () => {
    directory = mkdtempSync(path.join(tmpdir(), "esplab-watch-"));
    mkdirSync(path.join(directory, "apps"));
    let reloads = 0;
    stop = watchSources(directory, async () => void reloads++, 200);
    for (let i = 0; i < 5; i++) writeFileSync(path.join(directory, "apps", "app.ts"), `export const v = ${i};`);
    await until(() => reloads > 0);
    await settle(400);
    expect(reloads).toBe(1);
    writeFileSync(path.join(directory, "notes.md"), "text");
    await settle(400);
    expect(reloads).toBe(1);
    writeFileSync(path.join(directory, "main.ts"), "export {};");
    await until(() => reloads > 1);
    expect(reloads).toBe(2);
  });

  it("does not run reloads at the same time, and none after stop", async () => {
    directory = mkdtempSync(path.join(tmpdir(), "esplab-watch-"));
    let active = 0;
    let overlapped = false;
    let started = 0;
    let finished = 0;
    stop = watchSources(directory, async () => {
      started++;
      active++;
      overlapped ||= active > 1;
      await settle(300);
      active--;
      finished++;
    }, 20);
    writeFileSync(path.join(directory, "a.ts"), "1");
    await until(() => started === 1);
    writeFileSync(path.join(directory, "a.ts"), "2"); // lands while the first reload runs
    await until(() => finished === 2);
    expect(overlapped).toBe(false);
    stop();
    writeFileSync(path.join(directory, "a.ts"), "3");
    await settle(300);
    expect(started).toBe(2);
  });
});
