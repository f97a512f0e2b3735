import { EsplabError, UsageError } from "../../core/errors.ts";
import type { Clock } from "../../ports/clock.ts";
import { type HttpClient, type HttpResponse, jsonBody, redact, serverMessageOf } from "../http/client.ts";
import { HttpError } from "../http/errors.ts";
import { encodePath, encodeQuery } from "../http/url.ts";
import type { TokenSource } from "./auth.ts";
import { type DatabaseLocation, parseDatabaseUrl } from "./database-url.ts";
import { childrenOf, type JsonValue } from "./ordering.ts";
import type { Query } from "./query.ts";
import { RtdbStream, type StreamHandlers, type StreamOptions } from "./stream.ts";
import { checkKey, checkValue, pathSegments } from "./values.ts";

/** A Realtime Database request the server refused; `status` and `serverMessage` as it sent them. */
export class DatabaseError extends HttpError {}

export interface DatabaseOptions {
  /** `https://<db>.firebaseio.com`, `https://<db>.<region>.firebasedatabase.app` or `http://127.0.0.1:9000?ns=<db>`. */
  databaseUrl: string;
  http: HttpClient;
  clock: Clock;
  /**
   * Signs requests with its token: `?auth=<ID token>` (FirebaseAuth) or `?access_token=<OAuth token>`
   * (ServiceAccountCredential); refreshed and retried once on 401.
   */
  auth?: TokenSource;
  /** An OAuth2 access token (service accounts), sent as `?access_token=`; or the emulator's admin token "owner". */
  accessToken?: string;
  /**
   * A legacy database secret (Firebase console → Project settings → Service accounts → Database secrets), sent as
   * `?auth=<secret>`: full access past the rules, as the Arduino clients' "legacy token". Firebase deprecates secrets
   * (the current "Authenticate REST Requests" page documents only OAuth2 access tokens and ID tokens); prefer a signed-in
   * user. It never expires, so a 401 is not retried: it says the secret was refused.
   */
  databaseSecret?: string;
  /** `host:port` of a database emulator, as FIREBASE_DATABASE_EMULATOR_HOST would say. */
  emulatorHost?: string;
  /** Bound on a read's response body. */
  maxBodyBytes?: number;
}

export interface WriteOptions {
  /** `print=silent`: the server answers 204 with no body, saving bytes on the wire. */
  silent?: boolean;
}

export type Conditional = { ok: true; etag: string } | { ok: false; value: JsonValue; etag: string };

interface Call {
  method: string;
  path: string;
  params?: Record<string, string | number | boolean | undefined>;
  body?: JsonValue | Record<string, JsonValue>;
  headers?: Record<string, string>;
  /** Statuses returned to the caller rather than thrown. */
  accept?: number[];
  /** The location's priority (`<path>/.priority.json`) rather than its value. */
  priority?: boolean;
  action: string;
}

/** The Realtime Database over REST: reads, writes, queries, conditional writes and streaming. */
export class Database {
  readonly #options: DatabaseOptions;
  readonly location: DatabaseLocation;

  constructor(options: DatabaseOptions) {
    this.#options = options;
    this.location = parseDatabaseUrl(options.databaseUrl, options.emulatorHost);
  }

  async get(path: string, options: { shallow?: boolean } = {}): Promise<JsonValue> {
    const response = await this.#call({ method: "GET", path, params: { shallow: options.shallow ? "true" : undefined }, action: "get" });
    return jsonBody(response, `get ${path}`) as JsonValue;
  }

  async set(path: string, value: JsonValue, options: WriteOptions = {}): Promise<void> {
    checkValue(value, pathLabel(path));
    await this.#call({ method: "PUT", path, body: value, params: silent(options), action: "set" });
  }

  /** Appends under a new time-ordered push ID; returns the key. */
  async push(path: string, value: JsonValue): Promise<string> {
    checkValue(value, `${pathLabel(path)}/<new>`);
    const response = await this.#call({ method: "POST", path, body: value, action: "push" });
    const answer = jsonBody(response, `push ${path}`) as { name?: unknown } | null;
    if (!answer || typeof answer.name !== "string") {
      throw new EsplabError("BAD_PUSH_RESPONSE", `push ${path}: the server answered without a "name"; is this a Realtime Database?`);
    }
    return answer.name;
  }

  /** Updates the named children; keys may be paths (`"a/b": 1`) for a multi-path atomic update. */
  async update(path: string, values: Record<string, JsonValue>, options: WriteOptions = {}): Promise<void> {
    if (values === null || typeof values !== "object" || Array.isArray(values)) {
      throw new UsageError("BAD_VALUE", `update ${path}: give an object of child paths to values`);
    }
    for (const key of Object.keys(values)) {
      for (const segment of key.split("/").filter((s) => s !== "")) checkKey(segment, `update ${path} key "${key}"`);
      checkValue(values[key], `${pathLabel(path)}/${key}`);
    }
    await this.#call({ method: "PATCH", path, body: values, params: silent(options), action: "update" });
  }

  async remove(path: string): Promise<void> {
    await this.#call({ method: "DELETE", path, action: "remove" });
  }

  /**
   * A location's priority (REST reference, "Priorities": `/.priority.json`); null where none is set. Priorities order
   * children under `orderBy="$priority"`.
   */
  async getPriority(path: string): Promise<string | number | null> {
    const response = await this.#call({ method: "GET", path, priority: true, action: "get priority" });
    return jsonBody(response, `get priority ${path}`) as string | number | null;
  }

  /** Sets the priority of an existing location (a PUT to `/.priority.json`: Firebase takes no other method there). */
  async setPriority(path: string, priority: string | number | null): Promise<void> {
    checkPriority(priority, pathLabel(path));
    await this.#call({ method: "PUT", path, priority: true, body: priority, action: "set priority" });
  }

  /** Writes a value and its priority in one PUT (`{".value": v, ".priority": p}`, as the REST reference writes it). */
  async setWithPriority(path: string, value: JsonValue, priority: string | number | null, options: WriteOptions = {}): Promise<void> {
    checkValue(value, pathLabel(path));
    checkPriority(priority, pathLabel(path));
    const body: JsonValue =
      value !== null && typeof value === "object" && !Array.isArray(value) ? { ...value, ".priority": priority } : { ".value": value, ".priority": priority };
    await this.#call({ method: "PUT", path, body, params: silent(options), action: "set" });
  }

  /** Runs a query; the answer comes back as [key, value] pairs in Firebase's order. */
  async query(path: string, query: Query): Promise<Array<[string, JsonValue]>> {
    // A plain GET leaves priorities out; ordering by them here needs the export format, stripped again after.
    const byPriority = query.orderBy.kind === "priority";
    const params = byPriority ? { ...query.toParams(), format: "export" } : query.toParams();
    const response = await this.#call({ method: "GET", path, params, action: "query" });
    const found = query.apply(childrenOf(jsonBody(response, `query ${path}`) as JsonValue));
    return byPriority ? found.map(([key, value]) => [key, withoutPriorities(value)]) : found;
  }

  /** Reads a value with its ETag, for a conditional write. */
  async getWithETag(path: string): Promise<{ value: JsonValue; etag: string }> {
    const response = await this.#call({ method: "GET", path, headers: { "X-Firebase-ETag": "true" }, action: "get" });
    return { value: jsonBody(response, `get ${path}`) as JsonValue, etag: etagOf(response, path) };
  }

  /** Writes only if the value still has `etag` ("null_etag": only if nothing is there). */
  setIfMatch(path: string, value: JsonValue, etag: string): Promise<Conditional> {
    checkValue(value, pathLabel(path));
    return this.#conditional("PUT", path, value, etag, "conditional set");
  }

  removeIfMatch(path: string, etag: string): Promise<Conditional> {
    return this.#conditional("DELETE", path, undefined, etag, "conditional remove");
  }

  /**
   * Compare-and-swap: reads the value, computes the next one with `update` (return undefined to give up), writes it
   * if nobody changed it meanwhile, and retries with the newer value up to `maxAttempts` times.
   */
  async transaction(
    path: string,
    update: (current: JsonValue) => JsonValue | undefined,
    options: { maxAttempts?: number } = {},
  ): Promise<{ committed: boolean; value: JsonValue; attempts: number }> {
    const maxAttempts = options.maxAttempts ?? 10;
    let { value, etag } = await this.getWithETag(path);
    for (let attempt = 1; ; attempt++) {
      const next = update(value);
      if (next === undefined) return { committed: false, value, attempts: attempt };
      const result = next === null ? await this.removeIfMatch(path, etag) : await this.setIfMatch(path, next, etag);
      if (result.ok) return { committed: true, value: next, attempts: attempt };
      if (attempt >= maxAttempts) {
        throw new EsplabError(
          "TRANSACTION_CONTENDED",
          `transaction on ${path} lost the race ${maxAttempts} times: other writers change it too often; retry later or raise maxAttempts`,
        );
      }
      value = result.value;
      etag = result.etag;
    }
  }

  /** Listens to a location: keeps a local copy from the event stream and reports every real change. */
  listen(path: string, handlers: StreamHandlers, options: StreamOptions = {}): RtdbStream {
    pathSegments(path);
    return new RtdbStream(this, path, handlers, options);
  }

  /** The full URL of a path with the namespace and credentials (for the stream; keep it out of logs). */
  async urlFor(path: string, params: Record<string, string | number | boolean | undefined> = {}, forceRefresh = false, priority = false): Promise<string> {
    const segments = pathSegments(path);
    if (priority) segments.push(".priority"); // a metadata key: no user key may start with "."

    const all: Record<string, string | number | boolean | undefined> = {};
    if (this.location.sendNamespace) all.ns = this.location.namespace;
    for (const name of Object.keys(params)) all[name] = params[name];
    if (this.#options.auth) all[this.#options.auth.tokenParameter ?? "auth"] = await this.#options.auth.getIdToken({ forceRefresh });
    else if (this.#options.accessToken) all.access_token = this.#options.accessToken;
    else if (this.#options.databaseSecret) all.auth = this.#options.databaseSecret;
    const query = encodeQuery(all);
    return `${this.location.base}/${encodePath(segments.join("/"))}.json${query ? `?${query}` : ""}`;
  }

  get http(): HttpClient {
    return this.#options.http;
  }
  get clock(): Clock {
    return this.#options.clock;
  }
  get auth(): TokenSource | undefined {
    return this.#options.auth;
  }

  async #conditional(method: string, path: string, body: JsonValue | undefined, etag: string, action: string): Promise<Conditional> {
    const response = await this.#call({ method, path, body, headers: { "if-match": etag }, accept: [412], action });
    if (response.status === 412) {
      return { ok: false, value: jsonBody(response, `${action} ${path}`) as JsonValue, etag: etagOf(response, path) };
    }
    return { ok: true, etag: response.headers.get("etag") ?? "" };
  }

  async #call(call: Call): Promise<HttpResponse> {
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    for (let attempt = 0; ; attempt++) {
      const url = await this.urlFor(call.path, call.params, attempt > 0, call.priority);
      const headers: Record<string, string> = { ...call.headers };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await this.#options.http.request({
        method: call.method,
        url,
        headers,
        body,
        maxBodyBytes: call.method === "GET" ? this.#options.maxBodyBytes : undefined,
      });
      if (response.status >= 200 && response.status < 300) return response;
      if (call.accept?.includes(response.status)) return response;
      if (response.status === 401 && this.#options.auth && attempt === 0) {
        // An ID token can be refused before its stated expiry (revoked, clock skew): refresh once and retry.
        this.#options.auth.invalidate();
        continue;
      }
      const credential = this.#options.auth ? (this.#options.auth.tokenParameter === "access_token" ? "access token" : "id token") : this.#options.databaseSecret && !this.#options.accessToken ? "secret" : "none";
      throw databaseError(call, response, credential);
    }
  }
}

/** A value in the export format as a plain one: `.priority` keys dropped, `{".value": v}` as v (bottom-up, natively). */
function withoutPriorities(value: JsonValue): JsonValue {
  if (value === null || typeof value !== "object") return value;
  return JSON.parse(JSON.stringify(value), (key, item) =>
    key === ".priority" ? undefined : item !== null && typeof item === "object" && ".value" in item ? item[".value"] : item,
  ) as JsonValue;
}

/** Firebase's priorities are strings, numbers or null (REST reference, "Priorities"). */
function checkPriority(priority: unknown, where: string): void {
  if (priority === null || typeof priority === "string" || (typeof priority === "number" && Number.isFinite(priority))) return;
  throw new UsageError("BAD_PRIORITY", `the priority for ${where} must be a string, a finite number or null, not ${typeof priority}`);
}

function silent(options: WriteOptions): Record<string, string | undefined> {
  return { print: options.silent ? "silent" : undefined };
}

function pathLabel(path: string): string {
  return `/${path.split("/").filter((s) => s !== "").join("/")}`;
}

function etagOf(response: HttpResponse, path: string): string {
  const etag = response.headers.get("etag");
  if (!etag) throw new EsplabError("NO_ETAG", `the server sent no ETag for ${path}; conditional writes need a Realtime Database that supports X-Firebase-ETag`);
  return etag;
}

function databaseError(call: Call, response: HttpResponse, credential: "id token" | "access token" | "secret" | "none"): DatabaseError {
  const said = serverMessageOf(response);
  const where = pathLabel(call.path);
  let hint = "";
  if (response.status === 401 && credential === "secret") {
    hint = " — the database secret was refused: it may have been revoked (Project settings → Service accounts → Database secrets)";
  } else if (response.status === 401 && credential === "access token") {
    hint = " — the service account's access token was refused even fresh: it needs the scopes https://www.googleapis.com/auth/firebase.database and https://www.googleapis.com/auth/userinfo.email, and the service account a role on this project's database";
  } else if (response.status === 401) {
    hint = " — the security rules refused this request (or the token was rejected): sign in, or allow it in the rules";
  } else if (/Index not defined/i.test(said)) {
    hint = " — add the .indexOn the message names to the database rules";
  } else if (response.status === 404) {
    hint = " — is the database URL right? (…firebaseio.com for us-central1, …firebasedatabase.app for other regions)";
  } else if (response.status === 423) {
    hint = " — the database is locked or disabled; check the Firebase console";
  } else if (response.status >= 500) {
    hint = " — the server is having trouble; try again shortly";
  }
  return new DatabaseError(
    response.status,
    `${call.action} ${where} failed with ${response.status}${said ? `: ${said}` : ""}${hint} (${call.method} ${redact(response.url)})`,
    said,
  );
}
