import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../../../firmware/core/errors.ts";
import { clientKeyDer, pemToDer } from "../../../../firmware/platform/moddable/pem.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-pem-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });

describe("client keys for Moddable's TLS (PKCS#8 DER)", () => {
  openssl("genrsa", "-traditional", "-out", "pkcs1.pem", "2048");
  openssl("pkcs8", "-topk8", "-nocrypt", "-in", "pkcs1.pem", "-out", "pkcs8.pem");
  openssl("pkcs8", "-topk8", "-nocrypt", "-in", "pkcs1.pem", "-outform", "der", "-out", "pkcs8.der");
  const expected = new Uint8Array(fs.readFileSync(path.join(dir, "pkcs8.der")));
  const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8");

  it("wraps AWS's PKCS#1 key (BEGIN RSA PRIVATE KEY) byte for byte as openssl pkcs8 -topk8 does", () => {
    expect(read("pkcs1.pem")).toContain("BEGIN RSA PRIVATE KEY");
    expect(clientKeyDer(read("pkcs1.pem"))).toEqual(expected);
  });

  it("takes a PKCS#8 key (BEGIN PRIVATE KEY) as it is", () => {
    expect(clientKeyDer(read("pkcs8.pem"))).toEqual(expected);
  });

  it("refuses an encrypted or non-RSA key with the conversion command", () => {
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec-legacy.pem");
    for (const pem of [read("ec-legacy.pem"), "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "not a key"]) {
      expect(() => clientKeyDer(pem)).toThrow(UsageError);
    }
    expect(() => clientKeyDer(read("ec-legacy.pem"))).toThrow(/"EC PRIVATE KEY" block.*openssl pkcs8 -topk8 -nocrypt/);
  });

  it("reads PEM certificates as the DER openssl writes", () => {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=pem test");
    openssl("x509", "-in", "ca.pem", "-outform", "der", "-out", "ca.der");
    expect(pemToDer(read("ca.pem"))).toEqual(new Uint8Array(fs.readFileSync(path.join(dir, "ca.der"))));
    expect(() => pemToDer("-----BEGIN CERTIFICATE-----\nAB*C\n-----END CERTIFICATE-----")).toThrow(/not base64/);
  });
});
