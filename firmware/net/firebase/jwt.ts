import { UsageError } from "../../core/errors.ts";
import { base64Decode } from "../../core/base64.ts";
export { base64UrlEncode } from "../../core/base64.ts";
import { utf8DecodeStrict } from "../../core/utf8.ts";

/** JWT segments are base64url. */
export const base64UrlDecode = base64Decode;

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
