/**
 * The private-key parser reads bytes from outside (a key file pasted into a configuration), so: every malformed
 * input gets its own typed error (KeyFormatError, code BAD_PRIVATE_KEY) naming the problem, never another exception;
 * random mutations of real keys and raw noise included; and the time grows linearly with the input.
 */
import crypto from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyFormatError } from "../../../firmware/crypto/der.ts";
import { parsePkcs8, parseRsaPrivateKeyPem } from "../../../firmware/crypto/rsa-key.ts";

const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const PKCS8_PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const PKCS1_PEM = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const PKCS8_DER = new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" }));
const jwk = privateKey.export({ format: "jwk" });
const big = (b64url: string | undefined) => BigInt(`0x${Buffer.from(b64url!, "base64url").toString("hex")}`);

/** Only the parser's own error is an acceptable failure. */
function parseOrTypedError(parse: () => unknown): "ok" | "typed" {
  try {
    parse();
    return "ok";
  } catch (error) {
    if (error instanceof KeyFormatError && error.code === "BAD_PRIVATE_KEY" && error.message.length > 20) return "typed";
    throw error;
  }
}

const pem = (label: string, der: Uint8Array) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n")}\n-----END ${label}-----\n`;

describe("parseRsaPrivateKeyPem", () => {
  it("reads PKCS#8 and PKCS#1 keys to the same numbers as Node's JWK export", () => {
    for (const text of [PKCS8_PEM, PKCS1_PEM, JSON.parse(JSON.stringify(PKCS8_PEM)), PKCS8_PEM.replace(/\n/g, "\\n"), PKCS8_PEM.replace(/\n/g, "\r\n")]) {
      const key = parseRsaPrivateKeyPem(text);
      expect(key.n).toBe(big(jwk.n));
      expect(key.e).toBe(big(jwk.e));
      expect(key.d).toBe(big(jwk.d));
      expect(key.p).toBe(big(jwk.p));
      expect(key.qInv).toBe(big(jwk.qi));
      expect(key.size).toBe(256);
    }
  });

  it.each([
    ["text that is no PEM", "hello", /not PEM: give the private_key of the service-account JSON key file/],
    ["a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", /is a "CERTIFICATE", not a private key/],
    ["an encrypted key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", /encrypted; the device needs it unencrypted/],
    ["a key cut off", PKCS8_PEM.slice(0, 600), /no "-----END PRIVATE KEY-----": it was cut off/],
    ["base64 with a stray character", PKCS8_PEM.replace("MII", "M*I"), /holds "\*", which is not base64/],
    ["base64 cut mid-group", PKCS8_PEM.replace(/[A-Za-z0-9+/]=*\n-----END/, "\n-----END"), /not well-formed base64/],
    ["base64 going on after its padding", PKCS8_PEM.replace(/\n-----END/, "==AA\n-----END"), /goes on after its '=' padding/],
    ["an EC key", crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(), /not an RSA key/],
    ["a 512-bit key", pem("RSA PRIVATE KEY", new Uint8Array(crypto.generateKeyPairSync("rsa", { modulusLength: 512 }).privateKey.export({ type: "pkcs1", format: "der" }))), /512 bits; at least 1024/],
    ["a truncated DER body", pem("PRIVATE KEY", PKCS8_DER.subarray(0, 200)), /cut short|ends/],
    ["trailing bytes after the key", pem("PRIVATE KEY", Uint8Array.from([...PKCS8_DER, 0, 0])), /unexpected bytes after the PrivateKeyInfo/],
    ["an indefinite length", pem("PRIVATE KEY", Uint8Array.of(0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00)), /indefinite length/],
    ["a 9-byte length", pem("PRIVATE KEY", Uint8Array.of(0x30, 0x89, 1, 1, 1, 1, 1, 1, 1, 1, 1)), /claims a length of 9 bytes/],
    ["too long to be a key", "x".repeat(20_000), /20000 characters long/],
  ])("refuses %s with a KeyFormatError that says why", (_name, text, message) => {
    expect(() => parseRsaPrivateKeyPem(text)).toThrow(KeyFormatError);
    expect(() => parseRsaPrivateKeyPem(text)).toThrow(message);
  });

  it("finds a key whose numbers do not belong together (damaged in copying)", () => {
    // Change one byte inside the prime p's INTEGER: still valid DER, but p·q is no longer n.
    const pkcs1 = new Uint8Array(privateKey.export({ type: "pkcs1", format: "der" }));
    const pHex = Buffer.from(jwk.p!, "base64url").toString("hex");
    const at = Buffer.from(pkcs1).indexOf(Buffer.from(pHex.slice(0, 16), "hex"));
    expect(at).toBeGreaterThan(0);
    pkcs1[at + 5]! ^= 0x01;
    expect(() => parseRsaPrivateKeyPem(pem("RSA PRIVATE KEY", pkcs1))).toThrow(/primes p and q do not multiply to its modulus: the key is damaged/);
  });

  it("throws nothing but KeyFormatError for random mutations of a real key's DER", () => {
    const mutation = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
        fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
        fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      ),
      { minLength: 1, maxLength: 4 },
    );
    let typed = 0;
    fc.assert(
      fc.property(mutation, (edits) => {
        let der = Array.from(PKCS8_DER);
        for (const edit of edits) {
          const at = edit.at % (der.length + 1);
          if (edit.kind === "flip") der[at % der.length] = edit.value;
          else if (edit.kind === "cut") der = der.slice(0, at);
          else der = [...der.slice(0, at), ...edit.bytes, ...der.slice(at)];
        }
        if (parseOrTypedError(() => parsePkcs8(Uint8Array.from(der))) === "typed") typed++;
        // and the same bytes through the PEM path
        parseOrTypedError(() => parseRsaPrivateKeyPem(pem("PRIVATE KEY", Uint8Array.from(der))));
      }),
      { numRuns: 2000 },
    );
    expect(typed).toBeGreaterThan(1500); // nearly every mutation is caught, not silently accepted
  });

  it("throws nothing but KeyFormatError for random bytes and random text", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void parseOrTypedError(() => parsePkcs8(bytes))), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.constantFrom("", "-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----"), (body, head) => {
        parseOrTypedError(() => parseRsaPrivateKeyPem(`${head}\n${body}\n${head.replace("BEGIN", "END")}`));
      }),
      { numRuns: 2000 },
    );
  });

  it("takes time linear in the input, for inputs built to be slow", () => {
    const median = (make: (size: number) => string, size: number) => {
      const input = make(size);
      const times: number[] = [];
      for (let run = 0; run < 9; run++) {
        const start = performance.now();
        for (let i = 0; i < 20; i++) parseOrTypedError(() => parseRsaPrivateKeyPem(input));
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[4]!;
    };
    const attacks: [string, (size: number) => string][] = [
      ["padding everywhere", (size) => `-----BEGIN PRIVATE KEY-----\n${"=".repeat(size)}A\n-----END PRIVATE KEY-----`],
      ["whitespace and one bad character at the end", (size) => `-----BEGIN PRIVATE KEY-----\n${"A \n".repeat(size / 3)}*\n-----END PRIVATE KEY-----`],
      ["begin lines without an end", (size) => "-----BEGIN RSA PRIVATE KEY----".repeat(size / 30)],
      ["escaped line breaks", (size) => `-----BEGIN PRIVATE KEY-----${"\\n".repeat(size / 2)}`],
      ["nested SEQUENCE headers", (size) => pem("PRIVATE KEY", Uint8Array.from({ length: (size * 3) / 4 }, (_, i) => (i % 4 === 0 ? 0x30 : 0x82)))],
    ];
    for (const [name, make] of attacks) {
      const small = median(make, 1024);
      const large = median(make, 16 * 1024 - 200);
      // 16× the input: linear is about 16× the time; quadratic would be about 250×.
      expect(large / Math.max(small, 0.05), `${name}: ${small.toFixed(2)} ms → ${large.toFixed(2)} ms`).toBeLessThan(50);
    }
  });
});
