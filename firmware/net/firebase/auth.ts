import { UsageError } from "../../core/errors.ts";
import type { Clock } from "../../ports/clock.ts";
import type { Storage } from "../../ports/storage.ts";
import { type HttpClient, type HttpResponse, jsonBody, serverMessageOf } from "../http/client.ts";
import { HttpProtocolError } from "../http/errors.ts";
import { encodeQuery, percentEncode } from "../http/url.ts";
import { authErrorFor, FirebaseAuthError } from "./auth-errors.ts";
import { decodeJwtPayload } from "./jwt.ts";
import { deleteLongString, loadLongString, saveLongString } from "./token-store.ts";

/** Base URLs of the two Auth services. */
export interface AuthEndpoints {
  /** Up to and including `/v1`, e.g. `https://identitytoolkit.googleapis.com/v1`. */
  identityToolkit: string;
  /** Up to and including `/v1`, e.g. `https://securetoken.googleapis.com/v1`. */
  secureToken: string;
}

export const GOOGLE_AUTH_ENDPOINTS: AuthEndpoints = Object.freeze({
  identityToolkit: "https://identitytoolkit.googleapis.com/v1",
  secureToken: "https://securetoken.googleapis.com/v1",
});

/** The Auth emulator's endpoints (Firebase's or esplab's) at `host:port`, as FIREBASE_AUTH_EMULATOR_HOST names it. */
export function authEmulatorEndpoints(hostPort: string): AuthEndpoints {
  const base = `http://${hostPort.replace(/^https?:\/\//, "").replace(/\/+$/, "")}`;
  return { identityToolkit: `${base}/identitytoolkit.googleapis.com/v1`, secureToken: `${base}/securetoken.googleapis.com/v1` };
}

/**
 * What the RTDB client needs from a credential: a currently valid token, and a way to say the server refused it. A
 * signed-in user's ID token goes as `?auth=`; a service account's OAuth access token as `?access_token=`.
 */
export interface TokenSource {
  /** The query parameter the token travels in; "auth" when not said. */
  readonly tokenParameter?: "auth" | "access_token";
  getIdToken(options?: { forceRefresh?: boolean }): Promise<string>;
  /** The server rejected the token (401, `auth_revoked`): the next getIdToken refreshes. */
  invalidate(): void;
}

export interface FirebaseAuthOptions {
  /** The project's Web API key (Project settings → General). The emulator accepts any non-empty key. */
  apiKey: string;
  http: HttpClient;
  clock: Clock;
  /** Where the refresh token survives a reboot; without it the device signs in again after each boot. */
  storage?: Storage;
  /** Storage domain (≤ 15 characters). */
  storageDomain?: string;
  /** `host:port` of an Auth emulator; overrides `endpoints`. */
  emulatorHost?: string;
  endpoints?: AuthEndpoints;
  /** Refresh this long before the ID token expires. */
  refreshAheadMs?: number;
}

export interface AuthUser {
  uid: string;
  idToken: string;
  /** Monotonic Clock time (ms) after which the ID token is no longer accepted. */
  expiresAt: number;
}

/**
 * Firebase Auth over REST for a device: sign-in by email/password, custom token or anonymously, or ID-token mode
 * (handed an ID token and refresh token, never a password). Keeps the ID token fresh — ahead of expiry, and on demand
 * after a 401 or `auth_revoked` — with one refresh in flight however many callers ask.
 */
export class FirebaseAuth implements TokenSource {
  readonly #options: FirebaseAuthOptions;
  readonly #endpoints: AuthEndpoints;
  readonly #domain: string;
  #idToken: string | undefined;
  #refreshToken: string | undefined;
  #uid = "";
  #expiresAt = 0;
  #invalidated = false;
  #refreshing: Promise<string> | undefined;
  #refreshCount = 0;

  constructor(options: FirebaseAuthOptions) {
    if (!options.apiKey) {
      throw new UsageError("NO_API_KEY", "Firebase Auth needs the project's Web API key (Firebase console → Project settings → General)");
    }
    this.#options = options;
    this.#endpoints = options.emulatorHost ? authEmulatorEndpoints(options.emulatorHost) : (options.endpoints ?? GOOGLE_AUTH_ENDPOINTS);
    this.#domain = options.storageDomain ?? "fbauth";
  }

  get uid(): string {
    return this.#uid;
  }
  get signedIn(): boolean {
    return this.#refreshToken !== undefined || this.#idToken !== undefined;
  }
  /** How many times the ID token has been refreshed (for logs and tests). */
  get refreshCount(): number {
    return this.#refreshCount;
  }
  get user(): AuthUser | undefined {
    return this.#idToken ? { uid: this.#uid, idToken: this.#idToken, expiresAt: this.#expiresAt } : undefined;
  }

  signInWithPassword(email: string, password: string): Promise<AuthUser> {
    return this.#signIn("accounts:signInWithPassword", { email, password, returnSecureToken: true }, "signing in with email and password");
  }

  signInWithCustomToken(token: string): Promise<AuthUser> {
    return this.#signIn("accounts:signInWithCustomToken", { token, returnSecureToken: true }, "signing in with a custom token");
  }

  signInAnonymously(): Promise<AuthUser> {
    return this.#signIn("accounts:signUp", { returnSecureToken: true }, "signing in anonymously");
  }

  /**
   * ID-token mode: the device is given tokens minted elsewhere and never sees a password. The ID token is optional;
   * without one, or when the wall clock is not set so its age cannot be judged, the first use refreshes.
   */
  useTokens(tokens: { refreshToken: string; idToken?: string }): void {
    if (!tokens.refreshToken) throw new UsageError("NO_REFRESH_TOKEN", "ID-token mode needs the refresh token as well as the ID token");
    this.#refreshToken = tokens.refreshToken;
    this.#idToken = tokens.idToken;
    this.#expiresAt = 0;
    if (tokens.idToken) {
      const claims = decodeJwtPayload(tokens.idToken);
      this.#uid = String(claims.user_id ?? claims.sub ?? "");
      this.#expiresAt = this.#expiryFromClaims(claims.exp) ?? 0;
    }
    this.#invalidated = false;
    this.#persist();
  }

  /** Loads a refresh token saved by an earlier boot; returns whether one was there. */
  restore(): boolean {
    const storage = this.#options.storage;
    if (!storage) return false;
    const refreshToken = loadLongString(storage, this.#domain, "rt");
    if (!refreshToken) return false;
    this.#refreshToken = refreshToken;
    const uid = storage.get(this.#domain, "uid");
    this.#uid = typeof uid === "string" ? uid : "";
    this.#idToken = undefined;
    this.#expiresAt = 0;
    return true;
  }

  /** Forgets the tokens here and in Storage. */
  signOut(): void {
    this.#idToken = undefined;
    this.#refreshToken = undefined;
    this.#uid = "";
    this.#expiresAt = 0;
    const storage = this.#options.storage;
    if (storage) {
      deleteLongString(storage, this.#domain, "rt");
      storage.delete(this.#domain, "uid");
    }
  }

  invalidate(): void {
    this.#invalidated = true;
  }

  async getIdToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    const now = this.#options.clock.now();
    const ahead = this.#options.refreshAheadMs ?? 5 * 60_000;
    const current = this.#idToken;
    const fresh = current !== undefined && !this.#invalidated && now < this.#expiresAt - ahead;
    if (fresh && !options.forceRefresh) return current;
    if (!this.#refreshToken) {
      if (current !== undefined && now < this.#expiresAt && !this.#invalidated && !options.forceRefresh) return current;
      throw new UsageError("NOT_SIGNED_IN", "not signed in: call signInWithPassword / signInAnonymously / useTokens (or restore) first");
    }
    try {
      return await this.#refresh();
    } catch (error) {
      // Refreshing early failed for a passing reason (network, 5xx): the current token is still good for now.
      const stillValid = current !== undefined && !this.#invalidated && this.#options.clock.now() < this.#expiresAt;
      if (stillValid && !options.forceRefresh && !(error instanceof FirebaseAuthError && error.permanent)) return current;
      throw error;
    }
  }

  #refresh(): Promise<string> {
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #doRefresh(): Promise<string> {
    const action = "refreshing the ID token";
    const response = await this.#options.http.request({
      method: "POST",
      url: `${this.#endpoints.secureToken}/token?${encodeQuery({ key: this.#options.apiKey })}`,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `grant_type=refresh_token&refresh_token=${percentEncode(this.#refreshToken!)}`,
    });
    if (response.status !== 200) {
      const error = authErrorFor(action, response.status, serverMessageOf(response));
      if (error.permanent && error.authCode !== "INVALID_API_KEY" && error.authCode !== "API_KEY_INVALID") {
        // A dead refresh token must not be retried on every boot.
        this.signOut();
      }
      throw error;
    }
    const body = jsonBody(response, action) as Record<string, unknown>;
    const idToken = requireString(body, "id_token", response, action);
    const refreshToken = requireString(body, "refresh_token", response, action);
    this.#accept(idToken, refreshToken, Number(body.expires_in), String(body.user_id ?? this.#uid));
    this.#refreshCount++;
    return idToken;
  }

  async #signIn(method: string, payload: Record<string, unknown>, action: string): Promise<AuthUser> {
    const response = await this.#options.http.request({
      method: "POST",
      url: `${this.#endpoints.identityToolkit}/${method}?${encodeQuery({ key: this.#options.apiKey })}`,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
    });
    if (response.status !== 200) throw authErrorFor(action, response.status, serverMessageOf(response));
    const body = jsonBody(response, action) as Record<string, unknown>;
    const idToken = requireString(body, "idToken", response, action);
    const refreshToken = requireString(body, "refreshToken", response, action);
    this.#accept(idToken, refreshToken, Number(body.expiresIn), String(body.localId ?? ""));
    return this.user!;
  }

  #accept(idToken: string, refreshToken: string, expiresInSec: number, uid: string): void {
    const now = this.#options.clock.now();
    let expiresAt = now + (Number.isFinite(expiresInSec) && expiresInSec > 0 ? expiresInSec : 3600) * 1000;
    try {
      const fromClaims = this.#expiryFromClaims(decodeJwtPayload(idToken).exp);
      if (fromClaims !== undefined) expiresAt = Math.min(expiresAt, fromClaims);
    } catch {
      // Some emulators hand out unsigned or opaque tokens; expiresIn alone is enough.
    }
    this.#idToken = idToken;
    this.#refreshToken = refreshToken;
    this.#uid = uid;
    this.#expiresAt = expiresAt;
    this.#invalidated = false;
    this.#persist();
  }

  /** The token's `exp` as monotonic Clock time, when the wall clock is set; undefined otherwise. */
  #expiryFromClaims(exp: unknown): number | undefined {
    const epoch = this.#options.clock.epochMs();
    if (typeof exp !== "number" || epoch === undefined) return undefined;
    return this.#options.clock.now() + (exp * 1000 - epoch);
  }

  #persist(): void {
    const storage = this.#options.storage;
    if (!storage || !this.#refreshToken) return;
    if (loadLongString(storage, this.#domain, "rt") !== this.#refreshToken) saveLongString(storage, this.#domain, "rt", this.#refreshToken);
    if (storage.get(this.#domain, "uid") !== this.#uid && this.#uid) storage.set(this.#domain, "uid", this.#uid);
  }
}

function requireString(body: Record<string, unknown>, field: string, response: HttpResponse, action: string): string {
  const value = body?.[field];
  if (typeof value !== "string" || value === "") {
    throw new HttpProtocolError(
      "BAD_AUTH_RESPONSE",
      `${action}: the answer from ${response.url.replace(/\?.*$/, "")} has no "${field}"; is this endpoint really Firebase Auth?`,
    );
  }
  return value;
}
