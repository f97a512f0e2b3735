import crypto from "node:crypto";

/** Claims of a Firebase ID token, as the database and rules use them. */
export interface IdTokenClaims {
  uid: string;
  provider: string;
  exp: number;
  email?: string;
  claims: Record<string, unknown>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * Signs and verifies ID tokens: real RS256 JWTs with Firebase's claims (iss, aud, auth_time, user_id, sub, iat,
 * exp, firebase.sign_in_provider), under a key made when the emulator starts.
 */
export class TokenAuthority {
  readonly projectId: string;
  readonly #privateKey: crypto.KeyObject;
  readonly #publicKey: crypto.KeyObject;
  readonly #keyId = crypto.randomBytes(8).toString("hex");

  constructor(projectId: string) {
    this.projectId = projectId;
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
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

  /** The claims of a valid, unexpired token this authority signed; undefined otherwise. */
  verify(token: string, nowMs: number): IdTokenClaims | undefined {
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
