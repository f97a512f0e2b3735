import { base64Decode } from "../../core/base64.ts";
import { UsageError } from "../../core/errors.ts";

/** PEM text to DER bytes (the base64 body between the armour lines). */
export function pemToDer(pem: string): Uint8Array {
  const der = base64Decode(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  if (!der) throw new UsageError("BAD_PEM", "a PEM block holds characters that are not base64: paste the file as it was downloaded");
  return der;
}

// AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
const RSA_ALGORITHM = Object.freeze([0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]);

/**
 * A client private key as Moddable's TLS reads it: PKCS#8 DER. Takes the key as AWS IoT hands it out (PKCS#1,
 * `BEGIN RSA PRIVATE KEY`) or as `openssl pkcs8` writes it (`BEGIN PRIVATE KEY`).
 */
export function clientKeyDer(pem: string): Uint8Array {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === "PRIVATE KEY") return pemToDer(pem);
  if (label === "RSA PRIVATE KEY") {
    const pkcs1 = pemToDer(pem);
    const octets = [0x04, ...derLength(pkcs1.length)];
    const body = [0x02, 0x01, 0x00, ...RSA_ALGORITHM, ...octets];
    const head = [0x30, ...derLength(body.length + pkcs1.length), ...body];
    const out = new Uint8Array(head.length + pkcs1.length);
    out.set(head);
    out.set(pkcs1, head.length);
    return out;
  }
  throw new UsageError(
    "BAD_KEY",
    `the client key is ${label ? `a "${label}" block` : "not PEM"}; Moddable's TLS takes an unencrypted RSA key, "BEGIN RSA PRIVATE KEY" (as AWS IoT gives it) or "BEGIN PRIVATE KEY" (openssl pkcs8 -topk8 -nocrypt -in key.pem)`,
  );
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return [0x80 | bytes.length, ...bytes];
}
