import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildForDevice, type DeviceBuildResult } from "../../host-tools/build/device-build.ts";
import { buildFirmwareBundle } from "../../host-tools/build/firmware-bundle.ts";
import { FIRMWARE_LIBRARY } from "../../host-tools/moddable/memory-budget.ts";
import { moddable } from "../support/moddable.ts";

/** The environment of a laptop with Moddable and no ESP-IDF, with esplab's cache in a scratch folder. */
function environment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MODDABLE: moddable!.root, ESPLAB_CACHE: scratch("cache"), ...extra };
  if (!("IDF_PATH" in extra)) delete env.IDF_PATH;
  return env;
}

function scratch(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `esplab-device-${name}-`));
}

/** A git folder that says it is the given ESP-IDF release, as Moddable's makefile reads it (git describe). */
function fakeEspIdf(tag: string): string {
  const dir = scratch("idf");
  fs.writeFileSync(path.join(dir, "export.sh"), "");
  const git = (...args: string[]) => spawnSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "idf");
  git("tag", "-a", tag, "-m", tag);
  return dir;
}

describe.skipIf(!moddable)("the device image, through Moddable's own mcconfig, xsc, xsl and mcrez", () => {
  let result: DeviceBuildResult;
  let outputDir: string;
  const log: string[] = [];
  beforeAll(async () => {
    await buildFirmwareBundle("device");
    outputDir = scratch("out");
    result = await buildForDevice({ debug: false, config: {}, log: (line) => log.push(line), env: environment(), outputDir });
  }, 240_000);

  it("links and preloads the whole firmware library into flash; only the tiny main is left for boot", () => {
    expect(log.find((line) => /^### \d+ instances, \d+ keys/.test(line)), log.join("\n")).toBeDefined();
    expect(result.image.notPreloaded).not.toContain(FIRMWARE_LIBRARY);
    expect(result.image.notPreloaded).toContain("main");
    expect(result.image.flashSlots).toBeGreaterThan(10_000);
    expect(result.image.resourceBytes).toBeGreaterThan(0); // the root certificates
  });

  it("leaves no firmware object unfrozen but the app registry (each would take a RAM copy when written)", () => {
    const unfrozen = result.image.report.filter((line) => line.includes(`${FIRMWARE_LIBRARY}:`) && line.includes("not frozen"));
    // Apps register when their modules load; a student's app may register later, so the registry stays writable.
    expect(unfrozen.filter((line) => !/ registry: not frozen$/.test(line))).toEqual([]);
  });

  it("compiles the manifest's creation block into the image as written", () => {
    const manifest = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../manifest.json"), "utf8")) as { creation: { stack: number; static: number } };
    expect(result.image.creation.stackCount).toBe(manifest.creation.stack);
    expect(result.image.creation.staticSize).toBe(manifest.creation.static);
  });

  it("says ESP-IDF is what is missing for flashable images", () => {
    expect(result.build).toBeUndefined();
    expect(result.missing).toMatch(/IDF_PATH is not set: ESP-IDF v6\.0/);
  });

  it("checks the image again when built a second time into the same folder (make then stops at another ESP-IDF step)", async () => {
    const again = await buildForDevice({ debug: false, config: {}, log: () => {}, env: environment(), outputDir });
    expect(again.image.flashSlots).toBe(result.image.flashSlots);
    expect(again.missing).toMatch(/IDF_PATH is not set/);
  }, 240_000);

  it("names the version found and the version needed when ESP-IDF is the wrong release", async () => {
    const wrong = await buildForDevice({ debug: false, config: {}, log: () => {}, env: environment({ IDF_PATH: fakeEspIdf("v5.1.2") }), outputDir: scratch("out") });
    expect(wrong.missing).toMatch(/is v5\.1\.2; Moddable \d+\.\d+\.\d+ needs v6\.0/);
    expect(wrong.image.notPreloaded).not.toContain(FIRMWARE_LIBRARY);
  }, 240_000);

  it("turns a manifest error into one message naming it", async () => {
    const manifest = path.join(scratch("manifest"), "manifest.json");
    fs.writeFileSync(manifest, `{ "include": ["$(MODDABLE)/examples/manifest_base.json"], "modules": { "*": "./main" }, }`);
    await expect(buildForDevice({ debug: false, config: {}, log: () => {}, env: environment(), outputDir: scratch("out"), manifest })).rejects.toThrow(/mcconfig failed[\s\S]*manifest\.json/);
  }, 240_000);

  it("refuses an image whose main module's files do not exist (mcconfig itself skips them silently)", async () => {
    const manifest = path.join(scratch("manifest"), "manifest.json");
    fs.writeFileSync(manifest, JSON.stringify({ include: ["$(MODDABLE)/examples/manifest_base.json"], modules: { "*": "./missing-module" } }));
    await expect(buildForDevice({ debug: false, config: {}, log: () => {}, env: environment(), outputDir: scratch("out"), manifest })).rejects.toThrow(/no "main" module/);
  }, 240_000);
});
