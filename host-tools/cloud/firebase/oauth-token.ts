import crypto from "node:crypto";
import type { ServiceAccounts } from "./service-accounts.ts";
import { GOOGLE_TOKEN_URI } from "./service-accounts.ts";
import type { TokenAuthority } from "./tokens.ts";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Google refuses an assertion whose exp is more than an hour after its iat. */
export const MAX_ASSERTION_LIFETIME_SEC = 3600;
/**
 * How far the device's clock may be off. Google documents no figure, only "a reasonable timeframe" and a clock "with
 * skew"; five minutes is the emulator's choice (the leeway RFC 7519 implementations commonly allow).
 */
export const CLOCK_SKEW_SEC = 300;

export interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

const refuse = (error: string, description: string, status = 400): TokenAnswer => ({ status, body: { error, error_description: description } });

const SHORT_LIVED =
  "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

/**
 * Google's OAuth 2.0 token endpoint for service accounts (the JWT bearer grant, RFC 7523), as
 * https://developers.google.com/identity/protocols/oauth2/service-account describes it: a form body with grant_type
 * and assertion; the assertion an RS256 JWT from a known account, signed by one of its keys, for this audience, with
 * iat/exp at most an hour apart around now. Refusals in Google's shape, `{"error", "error_description"}`, with the
 * descriptions Google sends. An assertion may name as its audience Google's token URI, this endpoint's own address
 * (`host` is the request's Host header), or the token_uri written into the signing key's file (the cloud may since
 * have started on other ports).
 */
export function answerTokenRequest(
  request: { form: URLSearchParams; host: string | undefined },
  context: { accounts: ServiceAccounts; tokens: TokenAuthority; nowMs: number; lifetimeSec: number },
): TokenAnswer {
  const grantType = request.form.get("grant_type");
  if (grantType !== JWT_BEARER) return refuse("unsupported_grant_type", `Invalid grant_type: ${grantType ?? ""}`);
  const assertion = request.form.get("assertion");
  if (!assertion) return refuse("invalid_request", "Missing required parameter: assertion");

  const parts = assertion.split(".");
  const header = parts.length === 3 ? jsonSegment(parts[0]!) : undefined;
  const claims = parts.length === 3 ? jsonSegment(parts[1]!) : undefined;
  if (!header || !claims) return refuse("invalid_grant", "Invalid JWT: the assertion is not a JWT (header.claims.signature, each base64url JSON)");
  if (header.alg !== "RS256") return refuse("invalid_grant", `Invalid JWT: alg must be RS256, not ${JSON.stringify(header.alg)}`);

  const keys = typeof claims.iss === "string" ? context.accounts.keysOf(claims.iss) : undefined;
  if (!keys) return refuse("invalid_grant", "Invalid grant: account not found");
  const candidates = typeof header.kid === "string" && keys.has(header.kid) ? [keys.get(header.kid)!] : [...keys.values()];
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, "base64url");
  const signer = candidates.find((key) => crypto.verify("RSA-SHA256", signed, key.publicKey, signature));
  if (!signer) return refuse("invalid_grant", "Invalid JWT Signature.");

  const ownUri = request.host ? `http://${request.host}/token` : undefined;
  if (claims.aud !== GOOGLE_TOKEN_URI && claims.aud !== ownUri && claims.aud !== signer.tokenUri) {
    return refuse("invalid_grant", `Invalid JWT: Failed audience check. The right audience is ${GOOGLE_TOKEN_URI}${ownUri ? ` (or this emulator's ${ownUri})` : ""}`);
  }
  const now = context.nowMs / 1000;
  const { iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number" || exp <= iat || exp - iat > MAX_ASSERTION_LIFETIME_SEC) return refuse("invalid_grant", SHORT_LIVED);
  if (iat > now + CLOCK_SKEW_SEC || exp < now - CLOCK_SKEW_SEC) return refuse("invalid_grant", SHORT_LIVED);

  const scope = typeof claims.scope === "string" ? claims.scope.trim() : "";
  if (!scope) return refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  return {
    status: 200,
    body: {
      access_token: context.tokens.signAccessToken({ clientEmail: claims.iss as string, scope }, context.nowMs, context.lifetimeSec),
      expires_in: context.lifetimeSec,
      token_type: "Bearer",
    },
  };
}

function jsonSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
