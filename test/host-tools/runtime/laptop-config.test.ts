import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeConfig, loadLaptopConfig } from "../../../host-tools/runtime/laptop-config.ts";

describe("laptop configuration", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-config-"));

  it("reads the file, then Firebase's emulator variables, then ESPLAB_* variables", () => {
    fs.writeFileSync(path.join(dir, "esplab.config.json"), JSON.stringify({ "// note": "", app: "assignment3", device_id: "A" }));
    const values = loadLaptopConfig({
      cwd: dir,
      env: { ESPLAB_DEVICE_ID: "B", FIREBASE_DATABASE_EMULATOR_HOST: "127.0.0.1:9000", FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099" },
    });
    expect(values).toEqual({
      app: "assignment3",
      device_id: "B",
      firebase_database_emulator_host: "127.0.0.1:9000",
      firebase_auth_emulator_host: "127.0.0.1:9099",
    });
  });

  it("names the file and the fix for broken JSON or nested values", () => {
    fs.writeFileSync(path.join(dir, "esplab.config.json"), "{ app: ");
    expect(() => loadLaptopConfig({ cwd: dir, env: {} })).toThrow(/esplab\.config\.json is not valid JSON .*esplab\.config\.example\.json/);
    fs.writeFileSync(path.join(dir, "esplab.config.json"), JSON.stringify({ wifi: { ssid: "x" } }));
    expect(() => loadLaptopConfig({ cwd: dir, env: {} })).toThrow(/"wifi" must be a string, number or boolean/);
  });

  it("never prints secrets", () => {
    const lines = describeConfig({ firebase_password: "hunter22", firebase_api_key: "AIza123", firebase_refresh_token: "rt", device_id: "D1" });
    expect(lines.join("\n")).not.toMatch(/hunter22|AIza123|\brt\b/);
    expect(lines).toContain('device_id = "D1"');
  });
});
