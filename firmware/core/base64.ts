/** Base64 for the firmware: decoding what it receives (JWTs in base64url, PEM bodies and tokens in plain base64), and base64url for the JWTs it signs. */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUES = new Map<string, number>();
for (let i = 0; i < ALPHABET.length; i++) VALUES.set(ALPHABET[i]!, i);
VALUES.set("+", 62);
VALUES.set("/", 63);

/** Decodes base64url or plain base64, padding optional; undefined if it is not base64. */
export function base64Decode(text: string): Uint8Array | undefined {
  const clean = text.replace(/=+$/, "");
  if (clean.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let at = 0;
  for (let i = 0; i < clean.length; i++) {
    const value = VALUES.get(clean[i]!);
    if (value === undefined) return undefined;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
  }
  return out.subarray(0, at);
}

/** Encodes bytes as base64url without padding (JWT segments, RFC 7515 §2). */
export function base64UrlEncode(bytes: Uint8Array): string {
  const out: string[] = [];
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out.push(ALPHABET[n >> 18]!, ALPHABET[(n >> 12) & 63]!, ALPHABET[(n >> 6) & 63]!, ALPHABET[n & 63]!);
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    out.push(ALPHABET[n >> 18]!, ALPHABET[(n >> 12) & 63]!);
    if (i + 1 < bytes.length) out.push(ALPHABET[(n >> 6) & 63]!);
  }
  return out.join("");
}
