import { UsageError } from "../../core/errors.ts";
import { utf8DecodeStrict } from "../../core/utf8.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const VALUES = new Map<string, number>();
for (let i = 0; i < ALPHABET.length; i++) VALUES.set(ALPHABET[i]!, i);
VALUES.set("+", 62);
VALUES.set("/", 63);

/** Decodes base64url (or plain base64), padding optional; undefined if it is not base64. */
export function base64UrlDecode(text: string): Uint8Array | undefined {
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

export interface JwtClaims {
  /** Expiry, seconds since the epoch. */
  exp?: number;
  /** Issued at, seconds since the epoch. */
  iat?: number;
  user_id?: string;
  sub?: string;
  [claim: string]: unknown;
}

/** Reads a JWT's payload without checking its signature (the server does that); a malformed token is a UsageError. */
export function decodeJwtPayload(token: string): JwtClaims {
  const parts = token.split(".");
  const bad = (why: string) =>
    new UsageError("BAD_ID_TOKEN", `the ID token is not a JWT (${why}); pass the idToken string from Firebase Auth, not the refresh token`);
  if (parts.length !== 3) throw bad(`${parts.length} dot-separated parts instead of 3`);
  const bytes = base64UrlDecode(parts[1]!);
  if (!bytes) throw bad("its payload is not base64url");
  const text = utf8DecodeStrict(bytes);
  if (!text.ok) throw bad("its payload is not UTF-8");
  let payload: unknown;
  try {
    payload = JSON.parse(text.text);
  } catch {
    throw bad("its payload is not JSON");
  }
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw bad("its payload is not a JSON object");
  return payload as JwtClaims;
}
