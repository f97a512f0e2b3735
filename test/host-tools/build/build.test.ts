import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../../..");

function esplab(args: string[], env: NodeJS.ProcessEnv = {}) {
  const clean = { ...process.env };
  delete clean.MODDABLE;
  delete clean.IDF_PATH;
  Object.assign(clean, env);
  return spawnSync(process.execPath, [path.join(root, "bin/esplab.js"), ...args], { cwd: root, env: clean, encoding: "utf8", timeout: 120_000 });
}

describe("esplab build", () => {
  it("bundles the firmware for mcconfig with Moddable modules external and a source map", () => {
    const result = esplab(["build"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const main = fs.readFileSync(path.join(root, "dist/firmware/main.js"), "utf8");
    expect(main).toMatch(/^import \{ startDevice \} from 'esplab';$/m); // main only starts the preloaded library
    const bundle = fs.readFileSync(path.join(root, "dist/firmware/esplab.js"), "utf8");
    expect(bundle).toMatch(/^import config from 'mc\/config';/m);
    expect(bundle).toMatch(/^import Timer from 'timer';/m);
    expect(bundle).toMatch(/^import Preference from 'preference';/m);
    expect(bundle).not.toMatch(/from '\.\.?\//); // firmware modules are inlined
    expect(bundle).toMatch(/\/\/# sourceMappingURL=esplab\.js\.map/);
    const map = JSON.parse(fs.readFileSync(path.join(root, "dist/firmware/esplab.js.map"), "utf8")) as { sources: string[] };
    expect(map.sources.some((source) => source.endsWith("firmware/platform/moddable/firmware.ts"))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8")) as { modules: Record<string, string | string[]>; preload: string[] };
    expect(manifest.modules["*"]).toContain("./dist/firmware/main");
    expect(manifest.modules.esplab).toBe("./dist/firmware/esplab");
    expect(manifest.preload).toContain("esplab");
    const xs = fs.readFileSync(path.join(root, "dist/xs/firmware.js"), "utf8");
    expect(xs).not.toMatch(/^import /m);
  }, 120_000);

  it("says what to install and fails when the Moddable SDK is missing", () => {
    const result = esplab(["build", "--device", "esp32"], { ESPLAB_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), "esplab-empty-cache-")) });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/MODDABLE is not set and esplab's cache \(.*\) holds no SDK 8\.2\.3/);
    expect(result.stderr).toMatch(/esplab moddable setup --sdk/);
    expect(result.stdout).toBe(""); // nothing was bundled first
  });

  it("says which tools a $MODDABLE without built tools lacks", () => {
    const result = esplab(["build", "--device", "esp32"], { MODDABLE: fs.mkdtempSync(path.join(os.tmpdir(), "esplab-bare-sdk-")) });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/command-line tools are not built \(no mcconfig, mcrez, xsc, xsl/);
  });

  it("refuses a device it does not build for", () => {
    const result = esplab(["build", "--device", "esp8266"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--device esp8266 is not supported/);
  });
});
