import { UsageError } from "../../core/errors.ts";
import { utf8Encode } from "../../core/utf8.ts";
import { parseRsaPrivateKeyPem, type RsaPrivateKey } from "../../crypto/rsa-key.ts";
import { signRs256 } from "../../crypto/rsa-sign.ts";
import type { Clock } from "../../ports/clock.ts";
import { type HttpClient, jsonBody } from "../http/client.ts";
import { HttpProtocolError } from "../http/errors.ts";
import { percentEncode } from "../http/url.ts";
import type { TokenSource } from "./auth.ts";
import { base64UrlEncode } from "./jwt.ts";
import { ServiceAccountError, serviceAccountErrorFor } from "./service-account-errors.ts";

/** Google's OAuth 2.0 token endpoint, the `token_uri` of every service-account key file. */
export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

/** The scopes the Realtime Database REST API requires of an access token (Firebase, "Authenticate REST Requests"). */
export const DATABASE_SCOPES: readonly string[] = Object.freeze([
  "https://www.googleapis.com/auth/firebase.database",
  "https://www.googleapis.com/auth/userinfo.email",
]);

/** The fields of a service-account JSON key file the device needs. */
export interface ServiceAccountKey {
  client_email: string;
  /** PEM, PKCS#8 ("-----BEGIN PRIVATE KEY-----"), as in the key file. */
  private_key: string;
  /** Default https://oauth2.googleapis.com/token. */
  token_uri?: string;
  /** Sent as the JWT's `kid`, as Google's libraries do; optional. */
  private_key_id?: string;
}

export interface ServiceAccountOptions {
  /** The key file's fields, or the whole key file as JSON text. */
  key: ServiceAccountKey | string;
  http: HttpClient;
  clock: Clock;
  /** `host:port` of the local cloud's Auth emulator: token requests go to `http://host:port/token`; aud stays token_uri. */
  emulatorHost?: string;
  /** Get a new token this long before the current one expires (default 5 minutes). */
  refreshAheadMs?: number;
  scopes?: readonly string[];
}

/** The JWT's lifetime: Google refuses an assertion whose exp is more than an hour after its iat. */
const ASSERTION_LIFETIME_SEC = 3600;

/**
 * A Google service account on the device (OAuth 2.0 for server-to-server applications): signs a JWT with the
 * account's RSA key (RS256), trades it at the token endpoint for an access token, and hands that to the Realtime
 * Database as `access_token` — full access, past the security rules. The token is kept and replaced ahead of its
 * expiry, or at once after the database refused it; one request is in flight however many callers ask.
 */
export class ServiceAccountCredential implements TokenSource {
  readonly tokenParameter = "access_token";
  readonly clientEmail: string;
  readonly #key: RsaPrivateKey;
  readonly #keyId: string | undefined;
  readonly #audience: string;
  readonly #tokenUrl: string;
  readonly #options: ServiceAccountOptions;
  #accessToken: string | undefined;
  #expiresAt = 0;
  #invalidated = false;
  #fetching: Promise<string> | undefined;
  #fetchCount = 0;

  constructor(options: ServiceAccountOptions) {
    const key = typeof options.key === "string" ? parseKeyFile(options.key) : options.key;
    if (!key || typeof key.client_email !== "string" || !key.client_email.includes("@")) {
      throw new UsageError("BAD_SERVICE_ACCOUNT", "the service account needs its client_email (…@….iam.gserviceaccount.com) from the JSON key file");
    }
    this.clientEmail = key.client_email;
    this.#key = parseRsaPrivateKeyPem(key.private_key);
    this.#keyId = typeof key.private_key_id === "string" && key.private_key_id ? key.private_key_id : undefined;
    this.#audience = key.token_uri || GOOGLE_TOKEN_URI;
    if (!/^https?:\/\/[^/]+\/./.test(this.#audience)) {
      throw new UsageError("BAD_SERVICE_ACCOUNT", `token_uri ${JSON.stringify(this.#audience)} is not a URL: copy it from the key file (${GOOGLE_TOKEN_URI})`);
    }
    this.#tokenUrl = options.emulatorHost ? `http://${options.emulatorHost.replace(/^https?:\/\//, "").replace(/\/+$/, "")}/token` : this.#audience;
    this.#options = options;
  }

  /** How many access tokens have been fetched (for logs and tests). */
  get fetchCount(): number {
    return this.#fetchCount;
  }

  /** Monotonic Clock time (ms) after which the current token is no longer accepted; 0 before the first. */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** A valid access token: the one held, or a new one when it is near expiry, refused, or `forceRefresh` asks. */
  async getAccessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    const ahead = this.#options.refreshAheadMs ?? 5 * 60_000;
    const current = this.#accessToken;
    if (current !== undefined && !this.#invalidated && !options.forceRefresh && this.#options.clock.now() < this.#expiresAt - ahead) return current;
    try {
      return await this.#fetch();
    } catch (error) {
      // A new token could not be had for a passing reason (network, 5xx): the current one still serves until it expires.
      const stillValid = current !== undefined && !this.#invalidated && this.#options.clock.now() < this.#expiresAt;
      if (stillValid && !options.forceRefresh && !(error instanceof ServiceAccountError && error.permanent)) return current;
      throw error;
    }
  }

  /** TokenSource: the database calls every token this. */
  getIdToken(options?: { forceRefresh?: boolean }): Promise<string> {
    return this.getAccessToken(options);
  }

  invalidate(): void {
    this.#invalidated = true;
  }

  /** The signed JWT assertion for `iat` (seconds since the epoch). */
  assertion(iat: number): string {
    const header: Record<string, string> = { alg: "RS256", typ: "JWT" };
    if (this.#keyId) header.kid = this.#keyId;
    const claims = {
      iss: this.clientEmail,
      scope: (this.#options.scopes ?? DATABASE_SCOPES).join(" "),
      aud: this.#audience,
      iat,
      exp: iat + ASSERTION_LIFETIME_SEC,
    };
    const signingInput = `${base64UrlEncode(utf8Encode(JSON.stringify(header)))}.${base64UrlEncode(utf8Encode(JSON.stringify(claims)))}`;
    return `${signingInput}.${base64UrlEncode(signRs256(this.#key, utf8Encode(signingInput)))}`;
  }

  #fetch(): Promise<string> {
    this.#fetching ??= this.#doFetch().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  async #doFetch(): Promise<string> {
    const { clock, http } = this.#options;
    const epoch = clock.epochMs();
    if (epoch === undefined) {
      throw new ServiceAccountError(
        "CLOCK_NOT_SET",
        0,
        "a service account's JWT carries the time it was made, and the clock is not set yet: set it (SNTP) before connecting",
      );
    }
    const iat = Math.floor(epoch / 1000);
    const body = `grant_type=${percentEncode("urn:ietf:params:oauth:grant-type:jwt-bearer")}&assertion=${this.assertion(iat)}`;
    const sentAt = clock.now();
    const response = await http.request({
      method: "POST",
      url: this.#tokenUrl,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    const action = `getting an access token for ${this.clientEmail}`;
    if (response.status !== 200) {
      let answer: unknown;
      try {
        answer = jsonBody(response, action);
      } catch {
        answer = undefined;
      }
      throw serviceAccountErrorFor(response.status, answer, { clientEmail: this.clientEmail, audience: this.#audience, iat });
    }
    const answer = jsonBody(response, action) as Record<string, unknown> | null;
    const token = answer?.access_token;
    if (typeof token !== "string" || token === "") {
      throw new HttpProtocolError("BAD_TOKEN_RESPONSE", `${action}: the answer from ${this.#tokenUrl} has no "access_token"; is token_uri really Google's OAuth token endpoint?`);
    }
    const expiresIn = Number(answer?.expires_in);
    this.#accessToken = token;
    this.#expiresAt = sentAt + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000;
    this.#invalidated = false;
    this.#fetchCount++;
    return token;
  }
}

function parseKeyFile(text: string): ServiceAccountKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError("BAD_SERVICE_ACCOUNT", "the service-account key is not JSON: give the whole key file as downloaded, or its client_email and private_key");
  }
  if (!parsed || typeof parsed !== "object") throw new UsageError("BAD_SERVICE_ACCOUNT", "the service-account key file is not a JSON object");
  const file = parsed as Record<string, unknown>;
  if (file.type !== undefined && file.type !== "service_account") {
    throw new UsageError("BAD_SERVICE_ACCOUNT", `the key file is of type ${JSON.stringify(file.type)}, not "service_account": download a service-account key (Project settings → Service accounts)`);
  }
  return file as unknown as ServiceAccountKey;
}
