import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "./atomic-file.ts";

/** Claims of a Firebase ID token, as the database and rules use them. */
export interface IdTokenClaims {
  uid: string;
  provider: string;
  exp: number;
  email?: string;
  claims: Record<string, unknown>;
}

/** What an access token grants: the service account and its scopes, until exp (seconds since the epoch). */
export interface AccessTokenGrant {
  clientEmail: string;
  scopes: string[];
  exp: number;
}

const ACCESS_TOKEN_PREFIX = "ya29.";
const ACCESS_TOKEN_AUDIENCE = "esplab-local-oauth";

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/** Verified tokens remembered (a class of boards, each with its token of the hour, and room to spare). */
export const VERIFIED_TOKENS_KEPT = 10_000;

/** The signing key's file in a data directory: a PKCS#8 PEM, readable by its owner only. */
export const SIGNING_KEY_FILE = "auth-signing-key.pem";

/**
 * Signs and verifies ID tokens: real RS256 JWTs with Firebase's claims (iss, aud, auth_time, user_id, sub, iat,
 * exp, firebase.sign_in_provider). With a data directory the key is kept there, so tokens issued before a restart
 * stay valid until they expire; without one, a key is made for this run.
 */
export class TokenAuthority {
  readonly projectId: string;
  readonly #privateKey: crypto.KeyObject;
  readonly #publicKey: crypto.KeyObject;
  readonly #keyId: string;
  /**
   * Tokens whose signature and audience checked out, with what they grant. The RSA verification was a tenth of the
   * cloud's CPU with 1,000 boards (bench:class), and a board sends the same token with every request for an hour;
   * the same string always verifies the same way with this key, and expiry is checked on every use.
   */
  readonly #verifiedIdTokens = new VerifiedTokens<IdTokenClaims>();
  readonly #verifiedAccessTokens = new VerifiedTokens<AccessTokenGrant>();

  constructor(projectId: string, dataDir?: string) {
    this.projectId = projectId;
    this.#privateKey = dataDir ? loadOrCreateKey(path.join(dataDir, SIGNING_KEY_FILE)) : crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    this.#publicKey = crypto.createPublicKey(this.#privateKey);
    // Named after the key itself, so the same key always has the same kid.
    this.#keyId = crypto.createHash("sha256").update(this.#publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);
  }

  sign(user: { uid: string; provider: string; email?: string; claims?: Record<string, unknown> }, nowMs: number, lifetimeSec: number): string {
    const iat = Math.floor(nowMs / 1000);
    const header = { alg: "RS256", kid: this.#keyId, typ: "JWT" };
    const payload = {
      ...(user.claims ?? {}),
      iss: `https://securetoken.google.com/${this.projectId}`,
      aud: this.projectId,
      auth_time: iat,
      user_id: user.uid,
      sub: user.uid,
      iat,
      exp: iat + lifetimeSec,
      ...(user.email ? { email: user.email, email_verified: false } : {}),
      firebase: { identities: {}, sign_in_provider: user.provider },
    };
    const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${unsigned}.${b64url(crypto.sign("RSA-SHA256", Buffer.from(unsigned), this.#privateKey))}`;
  }

  /**
   * An OAuth access token for a service account. Google's are opaque strings starting "ya29."; these are that prefix
   * and a JWT signed with the same key as the ID tokens, so they stay valid across a restart until they expire, and
   * (four dot-separated parts) can never pass for an ID token.
   */
  signAccessToken(grant: { clientEmail: string; scope: string }, nowMs: number, lifetimeSec: number): string {
    const iat = Math.floor(nowMs / 1000);
    const header = { alg: "RS256", kid: this.#keyId, typ: "JWT" };
    const payload = { token_use: "access", sub: grant.clientEmail, scope: grant.scope, aud: ACCESS_TOKEN_AUDIENCE, iat, exp: iat + lifetimeSec };
    const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    return `${ACCESS_TOKEN_PREFIX}${unsigned}.${b64url(crypto.sign("RSA-SHA256", Buffer.from(unsigned), this.#privateKey))}`;
  }

  /** The grant behind a valid, unexpired access token this authority issued; undefined otherwise. */
  verifyAccessToken(token: string, nowMs: number): AccessTokenGrant | undefined {
    return this.#verifiedAccessTokens.get(token, nowMs, () => this.#verifyAccessSignature(token, nowMs));
  }

  #verifyAccessSignature(token: string, nowMs: number): AccessTokenGrant | undefined {
    if (!token.startsWith(ACCESS_TOKEN_PREFIX)) return undefined;
    const parts = token.slice(ACCESS_TOKEN_PREFIX.length).split(".");
    if (parts.length !== 3) return undefined;
    try {
      if (!crypto.verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), this.#publicKey, Buffer.from(parts[2]!, "base64url"))) return undefined;
      const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
      if (payload.token_use !== "access" || payload.aud !== ACCESS_TOKEN_AUDIENCE || typeof payload.exp !== "number" || payload.exp * 1000 <= nowMs) return undefined;
      return { clientEmail: String(payload.sub), scopes: String(payload.scope ?? "").split(" ").filter(Boolean), exp: payload.exp };
    } catch {
      return undefined;
    }
  }

  /** The claims of a valid, unexpired token this authority signed; undefined otherwise. */
  verify(token: string, nowMs: number): IdTokenClaims | undefined {
    return this.#verifiedIdTokens.get(token, nowMs, () => this.#verifySignature(token, nowMs));
  }

  #verifySignature(token: string, nowMs: number): IdTokenClaims | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    try {
      const ok = crypto.verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), this.#publicKey, Buffer.from(parts[2]!, "base64url"));
      if (!ok) return undefined;
      const payload = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
      if (typeof payload.exp !== "number" || payload.exp * 1000 <= nowMs || payload.aud !== this.projectId) return undefined;
      const firebase = payload.firebase as { sign_in_provider?: string } | undefined;
      return {
        uid: String(payload.sub),
        provider: firebase?.sign_in_provider ?? "custom",
        exp: payload.exp,
        email: typeof payload.email === "string" ? payload.email : undefined,
        claims: payload,
      };
    } catch {
      return undefined;
    }
  }
}

/** Up to VERIFIED_TOKENS_KEPT verified tokens (the oldest forgotten first), each answered while unexpired. */
class VerifiedTokens<Grant extends { exp: number }> {
  readonly #grants = new Map<string, Grant>();

  get(token: string, nowMs: number, verify: () => Grant | undefined): Grant | undefined {
    const known = this.#grants.get(token);
    if (known) return known.exp * 1000 > nowMs ? known : undefined;
    const grant = verify();
    if (grant) {
      if (this.#grants.size >= VERIFIED_TOKENS_KEPT) this.#grants.delete(this.#grants.keys().next().value!);
      this.#grants.set(token, grant);
    }
    return grant;
  }
}

function loadOrCreateKey(file: string): crypto.KeyObject {
  if (fs.existsSync(file)) {
    try {
      const key = crypto.createPrivateKey(fs.readFileSync(file, "utf8"));
      if (key.asymmetricKeyType !== "rsa") throw new Error(`an ${key.asymmetricKeyType} key, not RSA`);
      return key;
    } catch (error) {
      throw new Error(`${file} is not a readable RSA private key (${(error as Error).message}): restore it, or delete it to make a new one (ID tokens issued before then stop working)`);
    }
  }
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomically(file, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), 0o600);
  return privateKey;
}
