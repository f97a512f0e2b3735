import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");

function esplab(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env, ...env };
  delete clean.MODDABLE;
  delete clean.IDF_PATH;
  return spawnSync(process.execPath, [path.join(root, "bin/esplab.js"), ...args], { cwd: root, env: clean, encoding: "utf8", timeout: 120_000 });
}

describe("esplab build", () => {
  it("bundles the firmware for mcconfig with Moddable modules external and a source map", () => {
    const result = esplab(["build"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const bundle = fs.readFileSync(path.join(root, "dist/firmware/main.js"), "utf8");
    expect(bundle).toMatch(/^import config from 'mc\/config';/m);
    expect(bundle).toMatch(/^import Timer from 'timer';/m);
    expect(bundle).toMatch(/^import Preference from 'preference';/m);
    expect(bundle).not.toMatch(/from '\.\.?\//); // firmware modules are inlined
    expect(bundle).toMatch(/\/\/# sourceMappingURL=main\.js\.map/);
    const map = JSON.parse(fs.readFileSync(path.join(root, "dist/firmware/main.js.map"), "utf8")) as { sources: string[] };
    expect(map.sources.some((source) => source.endsWith("firmware/platform/moddable/main.ts"))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8")) as { modules: Record<string, string[]> };
    expect(manifest.modules["*"]).toContain("./dist/firmware/main");
    const xs = fs.readFileSync(path.join(root, "dist/xs/firmware.js"), "utf8");
    expect(xs).not.toMatch(/^import /m);
  }, 120_000);

  it("says what to install and fails when the Moddable SDK is missing", () => {
    const result = esplab(["build", "--device", "esp32"]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/MODDABLE is not set/);
    expect(result.stderr).toMatch(/IDF_PATH is not set/);
    expect(result.stderr).toMatch(/xs-dev setup --device esp32/);
  });

  it("refuses a device it does not build for", () => {
    const result = esplab(["build", "--device", "esp8266"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--device esp8266 is not supported/);
  });
});
