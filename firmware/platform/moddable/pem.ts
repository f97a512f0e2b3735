import { UsageError } from "../../core/errors.ts";

/** PEM text to DER bytes (the base64 body between the armour lines). */
export function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "").replace(/=+$/, "");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of body) {
    const digit = alphabet.indexOf(char);
    if (digit < 0) throw new UsageError("BAD_PEM", `a PEM block holds "${char}", which is not base64: paste the file as it was downloaded`);
    value = ((value << 6) | digit) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  return out;
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
