/**
 * SHA-256 and RS256 on the device's code, checked against Node's crypto (OpenSSL) as the peer: digests of every
 * padding boundary and random data, and signatures that Node verifies — and, PKCS#1 v1.5 being deterministic, that
 * are byte for byte the ones Node makes with the same key. Keys are generated here, in the test.
 */
import crypto from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRsaPrivateKeyPem } from "../../../firmware/crypto/rsa-key.ts";
import { modPow, signRs256 } from "../../../firmware/crypto/rsa-sign.ts";
import { sha256 } from "../../../firmware/crypto/sha256.ts";

const keys = new Map<number, crypto.KeyPairKeyObjectResult>();
const keyPair = (bits: number) => {
  if (!keys.has(bits)) keys.set(bits, crypto.generateKeyPairSync("rsa", { modulusLength: bits }));
  return keys.get(bits)!;
};

describe("sha256", () => {
  it("matches Node's at every length around the 55/56/64-byte padding boundaries", () => {
    for (let length = 0; length <= 200; length++) {
      const data = crypto.randomBytes(length);
      expect(Buffer.from(sha256(data)).toString("hex"), `length ${length}`).toBe(crypto.createHash("sha256").update(data).digest("hex"));
    }
  });

  it("matches Node's on random inputs and on FIPS 180-2's examples", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => Buffer.from(sha256(data)).equals(crypto.createHash("sha256").update(data).digest())),
      { numRuns: 200 },
    );
    expect(Buffer.from(sha256(new TextEncoder().encode("abc"))).toString("hex")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(Buffer.from(sha256(new Uint8Array())).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("RS256 signatures (RSASSA-PKCS1-v1_5 with SHA-256)", () => {
  it.each([1024, 2048, 3072])("a %i-bit key: Node verifies them and signs the same bytes", (bits) => {
    const { privateKey, publicKey } = keyPair(bits);
    const key = parseRsaPrivateKeyPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    expect(key.size).toBe(bits / 8);
    for (const text of ["", "a", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0", "é🦖".repeat(100)]) {
      const message = new TextEncoder().encode(text);
      const signature = signRs256(key, message);
      expect(signature.length).toBe(bits / 8);
      expect(crypto.verify("RSA-SHA256", message, publicKey, signature)).toBe(true);
      expect(Buffer.from(signature).equals(crypto.sign("RSA-SHA256", message, privateKey))).toBe(true);
    }
  });

  it("signs random messages as Node does, from a PKCS#1 key as well as PKCS#8", () => {
    const { privateKey } = keyPair(2048);
    const pkcs8 = parseRsaPrivateKeyPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const pkcs1 = parseRsaPrivateKeyPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (message) => {
        const ours = signRs256(pkcs8, message);
        return Buffer.from(ours).equals(crypto.sign("RSA-SHA256", message, privateKey)) && Buffer.from(signRs256(pkcs1, message)).equals(Buffer.from(ours));
      }),
      { numRuns: 30 },
    );
  });

  it("refuses to hand out a signature its own check finds wrong (a damaged private exponent)", () => {
    const { privateKey } = keyPair(2048);
    const key = parseRsaPrivateKeyPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    expect(() => signRs256({ ...key, dp: key.dp ^ 2n }, new Uint8Array(4))).toThrow(/did not verify with the key's own public exponent/);
  });

  it("modPow agrees with square-and-multiply on random numbers", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 300n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 200n) - 1n }), fc.bigInt({ min: 1n, max: (1n << 256n) - 1n }), (b, e, m) => {
        let expected = 1n % m;
        let base = b % m;
        for (let rest = e; rest > 0n; rest >>= 1n) {
          if (rest & 1n) expected = (expected * base) % m;
          base = (base * base) % m;
        }
        return modPow(b, e, m) === expected;
      }),
      { numRuns: 300 },
    );
  });
});
