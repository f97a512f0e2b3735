import { DerReader, KeyFormatError, TAG_NULL, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE } from "./der.ts";

/** An RSA private key with its CRT parameters (RFC 8017 §3.2, the two-prime form). */
export interface RsaPrivateKey {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qInv: bigint;
  /** Length of the modulus in bytes (256 for a 2048-bit key). */
  size: number;
}

/** The largest key read: 4096 bits. A signature costs about the cube of the size, and Google's keys are 2048. */
const MAX_MODULUS_BYTES = 512;
const MIN_MODULUS_BITS = 1024;
/** PEM text longer than this is not a key of up to MAX_MODULUS_BYTES (a 4096-bit PKCS#8 PEM is about 3.3 KB). */
const MAX_PEM_CHARS = 16 * 1024;

// 1.2.840.113549.1.1.1, rsaEncryption, as its DER contents.
const RSA_ENCRYPTION = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);

/**
 * Reads an unencrypted RSA private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`, as in a Google service-account JSON
 * key file) or PKCS#1 (`BEGIN RSA PRIVATE KEY`). Line breaks written as the two characters `\n` (a key pasted from the
 * JSON file unparsed) are taken as line breaks. Throws only KeyFormatError, naming what is wrong.
 */
export function parseRsaPrivateKeyPem(pem: string): RsaPrivateKey {
  if (typeof pem !== "string") throw new KeyFormatError("the private key must be the PEM text (a string)");
  if (pem.length > MAX_PEM_CHARS) throw new KeyFormatError(`the private key is ${pem.length} characters long; an RSA key of up to 4096 bits is under ${MAX_PEM_CHARS}: is this the right text?`);
  const text = pem.split("\\n").join("\n");
  const pkcs8 = armoured(text, "PRIVATE KEY");
  if (pkcs8 !== undefined) return parsePkcs8(decodeBody(pkcs8));
  const pkcs1 = armoured(text, "RSA PRIVATE KEY");
  if (pkcs1 !== undefined) return parsePkcs1(new DerReader(decodeBody(pkcs1)));
  if (text.includes("ENCRYPTED PRIVATE KEY")) {
    throw new KeyFormatError("the private key is encrypted; the device needs it unencrypted, as in a service-account JSON key file (openssl pkcs8 -topk8 -nocrypt)");
  }
  const label = armourLabel(text);
  throw new KeyFormatError(
    label
      ? `the PEM block is a "${label}", not a private key: give the private_key of the service-account JSON key file ("-----BEGIN PRIVATE KEY-----")`
      : 'the private key is not PEM: give the private_key of the service-account JSON key file, from "-----BEGIN PRIVATE KEY-----" to "-----END PRIVATE KEY-----"',
  );
}

/** Reads a PKCS#8 PrivateKeyInfo (RFC 5208) holding an RSA key. */
export function parsePkcs8(der: Uint8Array): RsaPrivateKey {
  const outer = new DerReader(der);
  const info = outer.read(TAG_SEQUENCE, "the PrivateKeyInfo SEQUENCE");
  outer.expectEnd("the PrivateKeyInfo");
  const version = info.readUnsigned("the PrivateKeyInfo version", 1);
  if (version !== 0n && version !== 1n) throw new KeyFormatError(`the PKCS#8 version is ${version}, not 0 or 1`);
  const algorithm = info.read(TAG_SEQUENCE, "the key's AlgorithmIdentifier");
  const oid = algorithm.readBytes(TAG_OID, "the key's algorithm OID");
  if (!sameBytes(oid, RSA_ENCRYPTION)) {
    throw new KeyFormatError("the key is not an RSA key (its algorithm is not rsaEncryption): Google's service-account keys are RSA; make a new key there");
  }
  if (algorithm.peekTag() === TAG_NULL) algorithm.readBytes(TAG_NULL, "the algorithm parameters");
  algorithm.expectEnd("the AlgorithmIdentifier");
  const key = parsePkcs1(new DerReader(info.readBytes(TAG_OCTET_STRING, "the privateKey OCTET STRING")));
  // attributes [0] and publicKey [1] (PKCS#8 v2) may follow; the signature needs neither.
  while (!info.done) info.skip("the PrivateKeyInfo attributes");
  return key;
}

/** Reads a PKCS#1 RSAPrivateKey (RFC 8017 appendix A.1.2) and checks that its numbers belong together. */
function parsePkcs1(reader: DerReader): RsaPrivateKey {
  const sequence = reader.read(TAG_SEQUENCE, "the RSAPrivateKey SEQUENCE");
  reader.expectEnd("the RSAPrivateKey");
  const version = sequence.readUnsigned("the RSAPrivateKey version", 1);
  if (version !== 0n) throw new KeyFormatError("the RSA key has more than two primes (version 1), which this signer does not take");
  const int = (what: string) => sequence.readUnsigned(what, MAX_MODULUS_BYTES);
  const n = int("the modulus n");
  const e = int("the public exponent e");
  const d = int("the private exponent d");
  const p = int("the prime p");
  const q = int("the prime q");
  const dp = int("the exponent dP");
  const dq = int("the exponent dQ");
  const qInv = int("the coefficient qInv");
  sequence.expectEnd("the RSAPrivateKey's numbers");

  const bits = n.toString(2).length;
  if (bits < MIN_MODULUS_BITS) throw new KeyFormatError(`the RSA key is ${bits} bits; at least ${MIN_MODULUS_BITS} are needed (Google's keys are 2048)`);
  if (e < 3n || e % 2n === 0n) throw new KeyFormatError(`the public exponent ${e} is not an odd number of at least 3`);
  // Cheap consistency checks: a key damaged in copying fails here rather than signing garbage.
  if (p < 2n || q < 2n || p * q !== n) throw new KeyFormatError("the key's primes p and q do not multiply to its modulus: the key is damaged; copy it again");
  if (dp <= 0n || dp >= p || dq <= 0n || dq >= q || qInv <= 0n || qInv >= p || (qInv * q) % p !== 1n) {
    throw new KeyFormatError("the key's CRT parameters (dP, dQ, qInv) do not fit its primes: the key is damaged; copy it again");
  }
  return { n, e, d, p, q, dp, dq, qInv, size: Math.ceil(bits / 8) };
}

/** The text between `-----BEGIN label-----` and `-----END label-----`, or undefined without both. */
function armoured(text: string, label: string): string | undefined {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const from = text.indexOf(begin);
  if (from < 0) return undefined;
  const to = text.indexOf(end, from + begin.length);
  if (to < 0) throw new KeyFormatError(`the private key has "${begin}" but no "${end}": it was cut off; copy all of it`);
  return text.slice(from + begin.length, to);
}

function armourLabel(text: string): string | undefined {
  const at = text.indexOf("-----BEGIN ");
  if (at < 0) return undefined;
  const close = text.indexOf("-----", at + 11);
  return close < 0 || close - at > 80 ? undefined : text.slice(at + 11, close);
}

/** The base64 body of a PEM block, whitespace ignored: one pass, no regular expressions, no string building. */
function decodeBody(body: string): Uint8Array {
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let length = 0;
  let symbols = 0;
  let padding = 0;
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c === 0x3d) {
      padding++;
      continue;
    }
    const value = c < 128 ? BASE64[c]! : -1;
    if (value < 0) {
      throw new KeyFormatError(`the PEM body holds ${JSON.stringify(body[i])}, which is not base64: the key was damaged in copying; copy it again`);
    }
    if (padding > 0) throw new KeyFormatError("the PEM body goes on after its '=' padding: the key was damaged in copying; copy it again");
    symbols++;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[length++] = (buffer >> bits) & 0xff;
    }
  }
  if (padding > 2 || (symbols + padding) % 4 !== 0 || symbols % 4 === 1) {
    throw new KeyFormatError("the PEM body is not well-formed base64 (its length or '=' padding is wrong): the key was damaged in copying; copy it again");
  }
  return out.subarray(0, length);
}

const BASE64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
