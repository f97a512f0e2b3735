import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { writeFileAtomically } from "./atomic-file.ts";
import { corsHeaders } from "./cors.ts";
import { answerTokenRequest } from "./oauth-token.ts";
import type { ServiceAccounts } from "./service-accounts.ts";
import type { TokenAuthority } from "./tokens.ts";

interface User {
  uid: string;
  email?: string;
  passwordHash?: string;
  salt?: string;
  disabled?: boolean;
  provider: string;
}

/** A refresh token as kept on disk: its SHA-256 only (the file holds no usable token), whose it is, and when issued. */
interface RefreshTokenRecord {
  uid: string;
  issuedAt: number;
}

interface AuthState {
  users: User[];
  /** Keyed by the token's SHA-256 (base64url). */
  refreshTokens: Record<string, RefreshTokenRecord>;
}

/** Sessions kept per user; signing in once more evicts the oldest (each device keeps one, so this is plenty). */
export const REFRESH_TOKENS_PER_USER = 20;

const tokenHash = (token: string) => crypto.createHash("sha256").update(token).digest("base64url");

class AuthFailure extends Error {}

/**
 * The Firebase Auth REST endpoints a device uses, at the emulator's paths: `/identitytoolkit.googleapis.com/v1/
 * accounts:signUp | signInWithPassword | signInWithCustomToken | lookup | delete` and `/securetoken.googleapis.com/
 * v1/token`, and `accounts:update` for a new password or email. Request and response shapes and error codes as
 * Google's; passwords kept as scrypt hashes. Users and refresh tokens persist in the data directory (auth.json,
 * replaced whole on each change); a user keeps at most REFRESH_TOKENS_PER_USER refresh tokens, and deleting the
 * user, disabling it, or changing its password or email revokes them — the cases Firebase documents
 * (https://firebase.google.com/docs/auth/admin/manage-sessions).
 * Beside them, Google's OAuth token endpoint for service accounts at `/token` (oauth-token.ts), as on
 * oauth2.googleapis.com, and at `/oauth2.googleapis.com/token` in the emulator's manner.
 */
export class AuthServer {
  readonly server: http.Server;
  readonly #tokens: TokenAuthority;
  readonly #accounts: ServiceAccounts | undefined;
  readonly #accessTokenLifetimeSec: number;
  readonly #now: () => number;
  readonly #lifetimeSec: number;
  readonly #file: string | undefined;
  #state: AuthState = { users: [], refreshTokens: {} };
  /** Orders refresh tokens by issue, so the oldest is evicted first (a clock could repeat a millisecond). */
  #issued = 0;

  readonly #corsOrigins: string[];

  constructor(options: {
    tokens: TokenAuthority;
    now: () => number;
    idTokenLifetimeSec: number;
    dataDir?: string;
    corsOrigins?: string[];
    serviceAccounts?: ServiceAccounts;
    accessTokenLifetimeSec?: number;
  }) {
    this.#corsOrigins = options.corsOrigins ?? [];
    this.#tokens = options.tokens;
    this.#accounts = options.serviceAccounts;
    this.#accessTokenLifetimeSec = options.accessTokenLifetimeSec ?? 3600;
    this.#now = options.now;
    this.#lifetimeSec = options.idTokenLifetimeSec;
    this.#file = options.dataDir ? path.join(options.dataDir, "auth.json") : undefined;
    if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true });
    if (this.#file && fs.existsSync(this.#file)) this.#state = loadState(this.#file);
    for (const record of Object.values(this.#state.refreshTokens)) this.#issued = Math.max(this.#issued, record.issuedAt);
    this.server = http.createServer((request, response) => {
      this.#handle(request, response).catch((error: Error) => {
        const code = error instanceof AuthFailure ? error.message : "INTERNAL_ERROR";
        this.#json(response, error instanceof AuthFailure ? 400 : 500, { error: { code: 400, message: code, errors: [{ message: code, domain: "global", reason: "invalid" }] } });
      });
    });
  }

  /** Creates a user with email and password (for tests and the lab's demo account). */
  createUser(email: string, password: string): string {
    if (this.#state.users.some((u) => u.email === email)) throw new AuthFailure("EMAIL_EXISTS");
    const salt = newSalt();
    const user = this.#newUser("password", email, { salt, passwordHash: crypto.scryptSync(password, salt, 32).toString("base64") });
    this.#save();
    return user.uid;
  }

  /** Revokes a user's refresh tokens (their ID tokens still expire on their own, as on Firebase). */
  revokeRefreshTokens(uid: string): void {
    this.#forgetTokens(uid);
    this.#save();
  }

  /** Disables a user: its refresh tokens then get USER_DISABLED, as on Firebase. */
  disableUser(uid: string): void {
    const user = this.#state.users.find((u) => u.uid === uid);
    if (user) user.disabled = true;
    this.#save();
  }

  /** How many refresh tokens a user holds now. */
  refreshTokenCount(uid: string): number {
    return Object.values(this.#state.refreshTokens).filter((record) => record.uid === uid).length;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const cors = corsHeaders(request, this.#corsOrigins);
    if ("refused" in cors) {
      request.resume();
      response.writeHead(403, { "Content-Type": "application/json; charset=utf-8" });
      response.end(JSON.stringify({ error: { code: 403, message: cors.refused } }));
      return;
    }
    for (const [name, value] of Object.entries(cors.headers)) response.setHeader(name, value);
    if (request.method === "OPTIONS") {
      response.writeHead(204, { "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "*" });
      response.end();
      return;
    }
    const url = new URL(request.url ?? "/", "http://auth");
    if (this.#accounts && (url.pathname === "/token" || url.pathname === "/oauth2.googleapis.com/token")) return this.#oauthToken(request, response);
    const text = await readText(request);
    if (request.method !== "POST") throw new AuthFailure("METHOD_NOT_ALLOWED");
    if (url.pathname === "/securetoken.googleapis.com/v1/token") return this.#refresh(response, text, request.headers["content-type"] ?? "");
    const match = /^\/identitytoolkit\.googleapis\.com\/v1\/accounts:(\w+)$/.exec(url.pathname);
    if (!match) throw new AuthFailure("NOT_FOUND");
    let body: Record<string, unknown>;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (!body || typeof body !== "object" || Array.isArray(body)) throw new Error("not an object");
    } catch {
      throw new AuthFailure("INVALID_JSON");
    }
    switch (match[1]) {
      case "signUp":
        return this.#signUp(response, body);
      case "signInWithPassword":
        return this.#signInWithPassword(response, body);
      case "signInWithCustomToken":
        return this.#signInWithCustomToken(response, body);
      case "lookup":
        return this.#lookup(response, body);
      case "update":
        return this.#update(response, body);
      case "delete": {
        const user = this.#userFromIdToken(body.idToken);
        this.#state.users = this.#state.users.filter((u) => u.uid !== user.uid);
        this.revokeRefreshTokens(user.uid);
        return this.#json(response, 200, { kind: "identitytoolkit#DeleteAccountResponse" });
      }
    }
    throw new AuthFailure("NOT_FOUND");
  }

  async #signUp(response: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    if (body.email === undefined && body.password === undefined) {
      const user = this.#newUser("anonymous");
      this.#save();
      return this.#json(response, 200, { kind: "identitytoolkit#SignupNewUserResponse", ...this.#session(user) });
    }
    const email = this.#email(body.email);
    if (typeof body.password !== "string" || body.password === "") throw new AuthFailure("MISSING_PASSWORD");
    if (body.password.length < 6) throw new AuthFailure("WEAK_PASSWORD : Password should be at least 6 characters");
    if (this.#state.users.some((u) => u.email === email)) throw new AuthFailure("EMAIL_EXISTS");
    const credentials = await hashNew(body.password);
    // checked again: another sign-up of the same email may have finished while this one hashed
    if (this.#state.users.some((u) => u.email === email)) throw new AuthFailure("EMAIL_EXISTS");
    const user = this.#newUser("password", email, credentials);
    this.#save();
    this.#json(response, 200, { kind: "identitytoolkit#SignupNewUserResponse", email, ...this.#session(user) });
  }

  async #signInWithPassword(response: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const email = this.#email(body.email);
    if (typeof body.password !== "string" || body.password === "") throw new AuthFailure("MISSING_PASSWORD");
    const user = this.#state.users.find((u) => u.email === email);
    if (!user) throw new AuthFailure("EMAIL_NOT_FOUND");
    if (!user.passwordHash || (await hash(body.password, user.salt!)) !== user.passwordHash) throw new AuthFailure("INVALID_PASSWORD");
    if (user.disabled) throw new AuthFailure("USER_DISABLED");
    this.#json(response, 200, { kind: "identitytoolkit#VerifyPasswordResponse", email, registered: true, ...this.#session(user) });
  }

  /** Custom tokens as the emulator takes them: a JWT whose payload has `uid` (any signature, "none" included). */
  #signInWithCustomToken(response: http.ServerResponse, body: Record<string, unknown>): void {
    if (typeof body.token !== "string") throw new AuthFailure("MISSING_CUSTOM_TOKEN");
    let payload: { uid?: unknown; exp?: unknown; claims?: unknown };
    try {
      payload = JSON.parse(Buffer.from(body.token.split(".")[1] ?? "", "base64url").toString("utf8")) as typeof payload;
    } catch {
      throw new AuthFailure("INVALID_CUSTOM_TOKEN");
    }
    if (typeof payload.uid !== "string" || payload.uid === "" || payload.uid.length > 128) throw new AuthFailure("INVALID_CUSTOM_TOKEN");
    if (typeof payload.exp === "number" && payload.exp * 1000 < this.#now()) throw new AuthFailure("INVALID_CUSTOM_TOKEN");
    let user = this.#state.users.find((u) => u.uid === payload.uid);
    if (!user) {
      user = { uid: payload.uid, provider: "custom" };
      this.#state.users.push(user);
    }
    if (user.disabled) throw new AuthFailure("USER_DISABLED");
    this.#save();
    const claims = payload.claims && typeof payload.claims === "object" ? (payload.claims as Record<string, unknown>) : {};
    this.#json(response, 200, { kind: "identitytoolkit#VerifyCustomTokenResponse", isNewUser: false, ...this.#session({ ...user, provider: "custom" }, claims) });
  }

  /** A new password or email: a "major account change", so the user's refresh tokens are revoked; returnSecureToken gets a fresh pair. */
  async #update(response: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const user = this.#userFromIdToken(body.idToken);
    if (user.disabled) throw new AuthFailure("USER_DISABLED");
    const email = body.email === undefined ? undefined : this.#email(body.email);
    if (body.password !== undefined && (typeof body.password !== "string" || body.password.length < 6)) throw new AuthFailure("WEAK_PASSWORD : Password should be at least 6 characters");
    const credentials = typeof body.password === "string" ? await hashNew(body.password) : undefined;
    // what follows sees the state after the hash: the user may have been deleted meanwhile, an email taken
    if (!this.#state.users.includes(user)) throw new AuthFailure("USER_NOT_FOUND");
    if (email !== undefined && email !== user.email && this.#state.users.some((u) => u.email === email)) throw new AuthFailure("EMAIL_EXISTS");
    const changed = (email !== undefined && email !== user.email) || body.password !== undefined;
    if (email !== undefined) user.email = email;
    if (credentials) {
      Object.assign(user, credentials);
      user.provider = "password";
    }
    if (changed) this.#forgetTokens(user.uid);
    this.#save();
    const session = body.returnSecureToken === true ? this.#session(user) : {};
    this.#json(response, 200, {
      kind: "identitytoolkit#SetAccountInfoResponse",
      localId: user.uid,
      ...(user.email ? { email: user.email } : {}),
      providerUserInfo: user.email ? [{ providerId: "password", federatedId: user.email, email: user.email }] : [],
      emailVerified: false,
      ...session,
    });
  }

  #lookup(response: http.ServerResponse, body: Record<string, unknown>): void {
    const user = this.#userFromIdToken(body.idToken);
    this.#json(response, 200, {
      kind: "identitytoolkit#GetAccountInfoResponse",
      users: [{ localId: user.uid, ...(user.email ? { email: user.email } : {}), disabled: !!user.disabled }],
    });
  }

  #refresh(response: http.ServerResponse, text: string, contentType: string): void {
    const params = contentType.includes("json") ? new URLSearchParams(Object.entries(JSON.parse(text || "{}") as Record<string, string>)) : new URLSearchParams(text);
    if (params.get("grant_type") !== "refresh_token") throw new AuthFailure("INVALID_GRANT_TYPE");
    const token = params.get("refresh_token");
    if (!token) throw new AuthFailure("MISSING_REFRESH_TOKEN");
    const uid = Object.hasOwn(this.#state.refreshTokens, tokenHash(token)) ? this.#state.refreshTokens[tokenHash(token)]!.uid : undefined;
    const user = uid ? this.#state.users.find((u) => u.uid === uid) : undefined;
    if (!user) throw new AuthFailure("INVALID_REFRESH_TOKEN");
    if (user.disabled) throw new AuthFailure("USER_DISABLED");
    this.#json(response, 200, {
      access_token: this.#tokens.sign(user, this.#now(), this.#lifetimeSec),
      id_token: this.#tokens.sign(user, this.#now(), this.#lifetimeSec),
      refresh_token: token,
      expires_in: String(this.#lifetimeSec),
      token_type: "Bearer",
      user_id: user.uid,
      project_id: this.#tokens.projectId,
    });
  }

  /** Google's token endpoint: errors in OAuth's shape, not Firebase Auth's. */
  async #oauthToken(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (request.method !== "POST") {
      request.resume();
      return this.#json(response, 405, { error: "invalid_request", error_description: "POST the token request as application/x-www-form-urlencoded" });
    }
    let form: URLSearchParams;
    try {
      const text = await readText(request);
      const json = (request.headers["content-type"] ?? "").includes("json");
      form = json ? new URLSearchParams(Object.entries(JSON.parse(text || "{}") as Record<string, string>)) : new URLSearchParams(text);
    } catch {
      return this.#json(response, 400, { error: "invalid_request", error_description: "The request body is not a form (or JSON object) under 1 MB" });
    }
    const answer = answerTokenRequest(
      { form, host: request.headers.host },
      { accounts: this.#accounts!, tokens: this.#tokens, nowMs: this.#now(), lifetimeSec: this.#accessTokenLifetimeSec },
    );
    response.setHeader("cache-control", "no-store");
    this.#json(response, answer.status, answer.body);
  }

  #session(user: User, claims?: Record<string, unknown>) {
    const refreshToken = crypto.randomBytes(32).toString("base64url");
    const held = Object.entries(this.#state.refreshTokens).filter(([, record]) => record.uid === user.uid);
    held.sort(([, a], [, b]) => a.issuedAt - b.issuedAt);
    for (const [key] of held.slice(0, Math.max(0, held.length - REFRESH_TOKENS_PER_USER + 1))) delete this.#state.refreshTokens[key];
    this.#state.refreshTokens[tokenHash(refreshToken)] = { uid: user.uid, issuedAt: ++this.#issued };
    this.#save();
    return {
      idToken: this.#tokens.sign({ uid: user.uid, provider: user.provider, email: user.email, claims }, this.#now(), this.#lifetimeSec),
      refreshToken,
      expiresIn: String(this.#lifetimeSec),
      localId: user.uid,
    };
  }

  #userFromIdToken(idToken: unknown): User {
    const claims = typeof idToken === "string" ? this.#tokens.verify(idToken, this.#now()) : undefined;
    if (!claims) throw new AuthFailure("INVALID_ID_TOKEN");
    const user = this.#state.users.find((u) => u.uid === claims.uid);
    if (!user) throw new AuthFailure("USER_NOT_FOUND");
    return user;
  }

  #email(value: unknown): string {
    if (typeof value !== "string" || value === "") throw new AuthFailure("MISSING_EMAIL");
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) throw new AuthFailure("INVALID_EMAIL");
    return value.toLowerCase();
  }

  #newUser(provider: string, email?: string, credentials?: { salt: string; passwordHash: string }): User {
    const user: User = { uid: crypto.randomBytes(14).toString("base64url"), provider, email, ...credentials };
    this.#state.users.push(user);
    return user;
  }

  #forgetTokens(uid: string): void {
    for (const [key, record] of Object.entries(this.#state.refreshTokens)) if (record.uid === uid) delete this.#state.refreshTokens[key];
  }

  #save(): void {
    if (this.#file) writeFileAtomically(this.#file, JSON.stringify(this.#state), 0o600);
  }

  #json(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify(body));
  }
}

const newSalt = () => crypto.randomBytes(16).toString("base64");

/**
 * scrypt off the event loop (libuv's thread pool): a hash takes tens of ms of CPU, and a class signing in at once
 * would otherwise stall every board's reads and writes for each of them in turn.
 */
function hash(password: string, salt: string): Promise<string> {
  return new Promise((resolve, reject) => crypto.scrypt(password, salt, 32, (error, key) => (error ? reject(error) : resolve(key.toString("base64")))));
}

async function hashNew(password: string): Promise<{ salt: string; passwordHash: string }> {
  const salt = newSalt();
  return { salt, passwordHash: await hash(password, salt) };
}

async function readText(request: http.IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 1_000_000) throw new AuthFailure("PAYLOAD_TOO_LARGE");
  }
  return text;
}

/**
 * auth.json as saved, or as older versions saved it (tokens in clear, mapped to a uid; no cap): those are kept hashed,
 * each user's newest REFRESH_TOKENS_PER_USER of them — the file kept them in issue order.
 */
function loadState(file: string): AuthState {
  let saved: { users?: unknown; refreshTokens?: Record<string, unknown> };
  try {
    saved = JSON.parse(fs.readFileSync(file, "utf8")) as typeof saved;
    if (!saved || typeof saved !== "object" || !Array.isArray(saved.users) || typeof saved.refreshTokens !== "object" || saved.refreshTokens === null) throw new Error("no users and refreshTokens");
  } catch (error) {
    throw new Error(`${file} is not readable (${(error as Error).message}): esplab only ever replaces it whole, so something else changed it — restore it from a backup, or move it away to start with no users`);
  }
  const refreshTokens: Record<string, RefreshTokenRecord> = {};
  const perUser = new Map<string, [string, RefreshTokenRecord][]>();
  let order = 0;
  for (const [key, value] of Object.entries(saved.refreshTokens!)) {
    const record = typeof value === "string" ? { uid: value, issuedAt: ++order } : (value as RefreshTokenRecord);
    const hashed = typeof value === "string" ? tokenHash(key) : key;
    if (!perUser.has(record.uid)) perUser.set(record.uid, []);
    perUser.get(record.uid)!.push([hashed, record]);
  }
  for (const held of perUser.values()) {
    held.sort(([, a], [, b]) => a.issuedAt - b.issuedAt);
    for (const [key, record] of held.slice(-REFRESH_TOKENS_PER_USER)) refreshTokens[key] = record;
  }
  return { users: saved.users as User[], refreshTokens };
}
