import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../firmware/apps/config.ts";

const root = path.resolve(import.meta.dirname, "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "manifest.json"), "utf8")) as {
  include: string[];
  data: { "*": string[] };
  config: Record<string, unknown>;
  creation: Record<string, unknown>;
};

/** Settings that are secrets or laptop-only: given at build time (mcconfig key=value), in Preference, or on the laptop. */
const NOT_IN_MANIFEST = new Set([
  "firebase_password",
  "firebase_refresh_token",
  "firebase_id_token",
  "firebase_database_secret",
  "firebase_private_key",
  "mqtt_password",
  "aws_certificate",
  "aws_private_key",
  "aws_root_ca",
  "firebase_database_emulator_host",
  "firebase_auth_emulator_host",
]);

/** Every config key the firmware reads, found the ways firmware code reads them. */
function keysTheFirmwareReads(): Set<string> {
  const keys = new Set(Object.keys(DEFAULTS));
  const patterns = [/setting\([^,]+, "([a-z_]+)"\)/g, /required\(config, "([a-z_]+)"\)/g, /text\("([a-z_]+)"\)/g, /config\.values\.([a-z][a-z_]+)/g, /\bv\.([a-z][a-z_]+)/g];
  const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
  for (const file of walk(path.join(root, "firmware"))) {
    const source = fs.readFileSync(file, "utf8");
    for (const pattern of patterns) for (const match of source.matchAll(pattern)) keys.add(match[1]!);
  }
  return keys;
}

describe("manifest.json (the device build)", () => {
  it("has an entry for every setting the firmware reads, and none for secrets", () => {
    const read = keysTheFirmwareReads();
    expect(read.size).toBeGreaterThan(30);
    const missing = [...read].filter((key) => !NOT_IN_MANIFEST.has(key) && !(key in manifest.config));
    expect(missing).toEqual([]);
    const secrets = Object.keys(manifest.config).filter((key) => NOT_IN_MANIFEST.has(key));
    expect(secrets).toEqual([]);
  });

  it("builds in Moddable's TLS session, its UDP DNS resolver and the root certificates the cloud hosts chain to", () => {
    expect(manifest.include).toContain("$(MODDABLE)/modules/crypt/tls_419.json");
    expect(manifest.include).toContain("$(MODDABLE)/examples/io/udp/dns/manifest_dns.json");
    expect(manifest.include).toContain("$(MODDABLE)/modules/io/manifest.json");
    // Moddable's store (modules/crypt/data): ca233 GTS Root R1 and ca236 GTS Root R4 (Firebase, Google APIs),
    // ca222 Starfield Services Root G2 (cross-signs Amazon's roots; AWS IoT also gets aws_root_ca from the config).
    expect(manifest.data["*"]).toEqual(["$(MODULES)/crypt/data/ca233", "$(MODULES)/crypt/data/ca236", "$(MODULES)/crypt/data/ca222"]);
  });

  it("keeps example values only: no real credentials", () => {
    const text = JSON.stringify(manifest.config);
    expect(text).not.toMatch(/AIza[0-9A-Za-z_-]{30,}/);
    expect(text).not.toMatch(/-----BEGIN/);
    expect(manifest.config.firebase_api_key).toBe("YOUR_FIREBASE_WEB_API_KEY");
  });
});
