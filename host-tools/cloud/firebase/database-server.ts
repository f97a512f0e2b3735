import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";
import { checkValue, pathSegments } from "../../../firmware/net/firebase/values.ts";
import { depthOf, getAt, MAX_TREE_DEPTH, normalize } from "../../../firmware/net/firebase/tree.ts";
import { badPriority, priorityOf, withPriority } from "./priority.ts";
import { ParameterError, restParameters, type RestParameters } from "./rest-params.ts";
import { restQuery, type RestQuery } from "./rest-query.ts";
import { withoutComments } from "./rules-source.ts";
import { pushIdGenerator } from "./push-id.ts";
import type { Requester } from "./rules.ts";
import { Rules, RulesError } from "./rules.ts";
import { corsHeaders, scriptRefusal } from "./cors.ts";
import { NamespaceStore, namespaceFileName, namespaceOfFile, writesOf, type CompactionOptions } from "./store.ts";
import { readerAfter } from "./tree-view.ts";
import type { AccessTokenGrant, TokenAuthority } from "./tokens.ts";

const DATABASE_SCOPE = "https://www.googleapis.com/auth/firebase.database";
const EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email";
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
import type { Clock, TimerHandle } from "../../../firmware/ports/clock.ts";

export interface DatabaseServerOptions {
  dataDir?: string;
  tokens: TokenAuthority;
  now: () => number;
  /** Refuse orderBy a child or $value without .indexOn, as production does; off by default, as on Firebase's own emulator, which only warns. */
  enforceIndexes?: boolean;
  keepAliveMs?: number;
  /** Runs the once-a-second tick (keep-alives, token expiry of streams) on this clock instead of Node's timers. */
  clock?: Pick<Clock, "setInterval" | "clear">;
  defaultNamespace?: string;
  /** Called after every acknowledged write, with the namespace and the written paths (for cloud functions). */
  onWrite?: (namespace: string, paths: string[][]) => void;
  /** Browser origins allowed besides this computer's own pages (see cors.ts); ["*"] for any. */
  corsOrigins?: string[];
  compaction?: CompactionOptions;
  /**
   * Legacy database secrets: `?auth=<secret>` is the administrator, past the rules, as a secret from Firebase's
   * console (Project settings → Service accounts → Database secrets) is on Firebase. For clients that use one.
   */
  databaseSecrets?: string[];
}

class HttpFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A single write through the REST API may be up to 256 MB (https://firebase.google.com/docs/database/usage/limits, Writes). */
const MAX_BODY_BYTES = 256 * 1024 * 1024;
/** The longest path, keys and slashes, in UTF-8 bytes (the SDK's MAX_PATH_LENGTH_BYTES, packages/database/src/core/util/Path.ts). */
const MAX_PATH_BYTES = 768;
/** The longest string the database stores: 10 MB, UTF-8 encoded (the same page, Data tree). */
const MAX_STRING_BYTES = 10 * 1024 * 1024;

/** The first string in `value` longer than Firebase stores, as its path; only a body over the limit can hold one. */
function overlongString(value: JsonValue, at: string[]): string | undefined {
  const pending: [JsonValue, string[]][] = [[value, at]];
  while (pending.length) {
    const [item, where] = pending.pop()!;
    if (typeof item === "string" && Buffer.byteLength(item) > MAX_STRING_BYTES) return `/${where.join("/")}`;
    if (item && typeof item === "object") for (const [key, child] of Object.entries(item)) pending.push([child as JsonValue, [...where, key]]);
  }
  return undefined;
}
/** Answer a write with the value as stored (PUT answers with the data written, server values resolved). */
const STORED = Symbol("stored");

interface Listener {
  path: string[];
  /**
   * A streamed query (orderBy, limitTo…) and each child it last showed, as JSON text (the tree changes in place, so
   * only a copy tells what a write changed): each change sends only the children that changed.
   */
  query?: { apply: RestQuery; sent: Map<string, string> };
  requester: Requester;
  send(event: string, data: unknown): void;
  close(): void;
  closed: boolean;
  expiresAt: number | undefined;
}

/**
 * The Realtime Database REST API and streaming, at Firebase's emulator paths: `/<path>.json?ns=<name>`. Any
 * namespace is created on first use; `owner` (`Authorization: Bearer owner` or `?auth=owner`) is the administrator,
 * and so is a service account's access token with the database scopes; rules live at `/.settings/rules.json`.
 */
export class DatabaseServer {
  readonly server: http.Server;
  readonly #options: DatabaseServerOptions;
  readonly #stores = new Map<string, NamespaceStore>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #pushId: () => string;
  readonly #keepAlive: TimerHandle;

  constructor(options: DatabaseServerOptions) {
    this.#options = options;
    this.#pushId = pushIdGenerator(options.now);
    this.server = http.createServer((request, response) => {
      this.#handle(request, response).catch((error: Error) => {
        const known = error instanceof HttpFailure || error instanceof ParameterError;
        const status = error instanceof HttpFailure ? error.status : known ? 400 : 500;
        if (!response.headersSent) this.#json(response, status, { error: known ? error.message : `Internal error: ${error.message}` });
        else response.end();
      });
    });
    const every = Math.min(options.keepAliveMs ?? 30_000, 1000);
    this.#keepAlive = options.clock ? options.clock.setInterval(() => this.#tick(), every) : setInterval(() => this.#tick(), every);
    this.#keepAliveEvery = options.keepAliveMs ?? 30_000;
    // Every namespace on disk is loaded before the server listens, so no request waits behind a load.
    if (options.dataDir && fs.existsSync(options.dataDir)) {
      for (const file of fs.readdirSync(options.dataDir).sort()) {
        const namespace = namespaceOfFile(file);
        if (namespace !== undefined) this.store(namespace);
      }
    }
  }

  readonly #keepAliveEvery: number;
  #sinceKeepAlive = 0;

  /** The namespaces in memory: those on disk from the start, and those used since. */
  get namespaces(): string[] {
    return [...this.#stores.keys()];
  }

  store(namespace: string): NamespaceStore {
    let store = this.#stores.get(namespace);
    if (!store) {
      store = new NamespaceStore(namespace, this.#options.dataDir, this.#options.compaction);
      for (const warning of store.warnings) console.warn(`firebase emulator: ${warning}`);
      this.#stores.set(namespace, store);
    }
    return store;
  }

  /** Writes as the administrator, as the REST API would (used by cloud functions); resolves once durable. */
  async adminSet(namespace: string, path: string, value: JsonValue): Promise<void> {
    const at = pathSegments(path);
    const store = this.store(namespace);
    const durable = store.commit({ set: at, value: normalize(resolveServerValues(value, at, store.root, this.#options.now())) });
    const events = this.#notify(namespace, at);
    await durable;
    for (const send of events) send();
  }

  /** Stops serving; resolves once every write taken is durable and the files are closed. */
  async close(): Promise<void> {
    if (this.#options.clock) this.#options.clock.clear(this.#keepAlive);
    else clearInterval(this.#keepAlive as NodeJS.Timeout);
    for (const listeners of this.#listeners.values()) for (const listener of listeners) listener.close();
    this.server.closeAllConnections();
    this.server.close();
    await Promise.all([...this.#stores.values()].map((store) => store.close()));
  }

  #tick(): void {
    const now = this.#options.now();
    this.#sinceKeepAlive += 1000;
    const keepAlive = this.#sinceKeepAlive >= this.#keepAliveEvery;
    if (keepAlive) this.#sinceKeepAlive = 0;
    for (const listeners of this.#listeners.values()) {
      for (const listener of listeners) {
        if (listener.expiresAt !== undefined && listener.expiresAt <= now) {
          listener.send("auth_revoked", "credential is no longer valid");
          listener.close();
        } else if (keepAlive) listener.send("keep-alive", null);
      }
    }
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const cors = corsHeaders(request, this.#options.corsOrigins ?? []);
    if ("refused" in cors) {
      request.resume();
      response.writeHead(403, { "Content-Type": "application/json; charset=utf-8" });
      response.end(JSON.stringify({ error: cors.refused }));
      return;
    }
    for (const [name, value] of Object.entries(cors.headers)) response.setHeader(name, value);
    if (request.method === "OPTIONS") {
      response.writeHead(204, { "Access-Control-Allow-Methods": "GET, PUT, POST, PATCH, DELETE", "Access-Control-Allow-Headers": "*" });
      response.end();
      return;
    }
    const url = new URL(request.url ?? "/", "http://emulator");
    const params = url.searchParams;
    // Firebase: "override the request method by making a POST request" with X-HTTP-Method-Override; never on a GET.
    const override = request.method === "POST" ? (request.headers["x-http-method-override"]?.toString() ?? params.get("x-http-method-override") ?? undefined) : undefined;
    const method = (override ?? request.method ?? "GET").toUpperCase();
    const namespace = params.get("ns") ?? /^([a-z0-9-]+)\.firebaseio\.com/i.exec(request.headers.host ?? "")?.[1] ?? this.#options.defaultNamespace ?? "default";
    // A file name holds at most 255 bytes; Firebase's own names are far shorter.
    if (namespaceFileName(namespace).length > 200) throw new HttpFailure(400, `Invalid namespace: "${namespace.slice(0, 40)}…" is too long (Firebase's database names are at most 63 characters)`);
    const store = this.store(namespace);
    const requester = this.#requester(request, params);
    let rawPath = decodeURIComponent(url.pathname);
    if (rawPath === "/.settings/rules.json") return this.#rules(method, request, response, namespace, store, requester);
    if (!rawPath.endsWith(".json")) throw new HttpFailure(404, "Not found: REST paths end in .json (e.g. /readings.json)");
    rawPath = rawPath.slice(0, -".json".length);
    // A location's priority is read and written at <location>/.priority (REST reference, "Priorities")
    const priority = /(^|\/)\.priority\/*$/.test(rawPath);
    if (priority) rawPath = rawPath.replace(/\.priority\/*$/, "");
    let path: string[];
    try {
      path = pathSegments(rawPath);
    } catch (error) {
      throw new HttpFailure(400, `Invalid path: ${(error as Error).message}`);
    }
    const pathBytes = Buffer.byteLength(`/${path.join("/")}`);
    if (pathBytes > MAX_PATH_BYTES) throw new HttpFailure(400, `Invalid path: it is ${pathBytes} bytes long (UTF-8); Firebase's paths are at most ${MAX_PATH_BYTES} — use shorter keys or fewer levels`);
    const rest = restParameters(params, method);
    conditionalHeaders(request, method);
    const refused = rest.callback !== undefined ? scriptRefusal(request, this.#options.corsOrigins ?? []) : undefined;
    if (refused) throw new HttpFailure(403, refused);
    const now = this.#options.now();
    const print = params.get("print");
    if (method === "GET") {
      if (request.headers.accept?.includes("text/event-stream")) return this.#stream(request, response, namespace, store, path, requester, params);
      if (!store.rules.canRead(path, store.root, requester, now)) throw new HttpFailure(401, "Permission denied");
      let value: JsonValue = store.get(path);
      // The Admin SDK's get_if_changed: a GET with if-none-match is answered 304 when the ETag still matches
      const ifNoneMatch = request.headers["if-none-match"];
      if (ifNoneMatch !== undefined && ifNoneMatch === etagOf(value)) {
        response.writeHead(304, { ETag: ifNoneMatch });
        response.end();
        return;
      }
      if (priority) return this.#answer(request, response, 200, priorityOf(value), value, print, rest);
      if (params.get("shallow") === "true") {
        const others = [...params.keys()].filter((k) => !["shallow", "ns", "auth", "access_token", "print"].includes(k));
        if (others.length) throw new HttpFailure(400, "Shallow parameter cannot be combined with other query parameters");
        if (value && typeof value === "object") value = Object.fromEntries(Object.keys(value).map((k) => [k, true]));
      } else {
        const query = restQuery(params, store.rules, path, this.#options.enforceIndexes === true);
        if (query) value = query(value);
      }
      // Priorities are part of an answer only when asked for: format=export (REST reference, "format").
      const answer = params.get("format") === "export" ? toWire(value) : toWire(withoutPriorities(value));
      return this.#answer(request, response, 200, answer, value, print, rest);
    }
    const body = await readBody(request);
    if (priority) return this.#writePriority(request, response, namespace, store, requester, path, method, body, print);
    if (method === "DELETE") return this.#write(request, response, namespace, store, requester, { set: path, value: null }, null, print);
    let value: JsonValue;
    try {
      value = JSON.parse(body) as JsonValue;
    } catch {
      throw new HttpFailure(400, "Invalid data; couldn't parse JSON object, array, or value.");
    }
    const tooLong = Buffer.byteLength(body) > MAX_STRING_BYTES ? overlongString(value, path) : undefined;
    if (tooLong !== undefined) throw new HttpFailure(400, `the string at ${tooLong} is over ${MAX_STRING_BYTES / 1024 / 1024} MB (UTF-8); Firebase stores strings up to 10 MB — store it in pieces, or in Cloud Storage`);
    if (method === "PUT") {
      checkData(value, path);
      const resolved = normalize(resolveServerValues(value, path, store.root, now));
      return this.#write(request, response, namespace, store, requester, { set: path, value: resolved }, STORED, print);
    }
    if (method === "POST") {
      const key = this.#pushId();
      const at = [...path, key];
      checkData(value, at);
      await this.#write(request, response, namespace, store, requester, { set: at, value: normalize(resolveServerValues(value, at, store.root, now)) }, { name: key }, print);
      return;
    }
    if (method === "PATCH") {
      if (!value || typeof value !== "object" || Array.isArray(value)) throw new HttpFailure(400, "Invalid data; PATCH takes an object of children to update.");
      const values: [string[], JsonValue][] = [];
      for (const [key, child] of Object.entries(value)) {
        let segments: string[];
        try {
          segments = pathSegments(key);
        } catch (error) {
          throw new HttpFailure(400, `Invalid data; ${(error as Error).message}`);
        }
        checkData(child, [...path, ...segments]);
        values.push([segments, normalize(resolveServerValues(child, [...path, ...segments], store.root, now))]);
      }
      return this.#write(request, response, namespace, store, requester, { update: path, values }, value, print);
    }
    throw new HttpFailure(405, `Method ${method} is not allowed`);
  }

  /**
   * A PUT at <location>/.priority: the location keeps its value and takes the priority (null removes it). Priorities
   * are read with GET and written with PUT (REST reference, "Priorities"); other methods are a 400.
   */
  async #writePriority(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    namespace: string,
    store: NamespaceStore,
    requester: Requester,
    path: string[],
    method: string,
    body: string,
    print: string | null,
  ): Promise<void> {
    if (method !== "PUT") throw new HttpFailure(400, `a priority is written with a PUT, not a ${method}: PUT a string, a number, or null to remove it`);
    let priority: JsonValue;
    try {
      priority = JSON.parse(body) as JsonValue;
    } catch {
      throw new HttpFailure(400, "Invalid data; couldn't parse JSON object, array, or value.");
    }
    priority = resolveServerValues(priority, path, store.root, this.#options.now());
    const bad = badPriority(priority);
    if (bad) throw new HttpFailure(400, `Invalid data; ${bad}`);
    const node = withPriority(store.get(path), priority);
    return this.#write(request, response, namespace, store, requester, { set: path, value: node }, priorityOf(node), print);
  }

  #requester(request: http.IncomingMessage, params: URLSearchParams): Requester {
    const header = request.headers.authorization?.replace(/^Bearer\s+/i, "");
    const oauth = params.get("access_token") ?? header;
    const token = params.get("auth") ?? oauth;
    if (!token) return { admin: false, auth: null };
    if (token === "owner" || this.#options.databaseSecrets?.includes(token)) return { admin: true };
    if (token === oauth && this.#accessGrant(token)) return { admin: true };
    const claims = this.#options.tokens.verify(token, this.#options.now());
    if (!claims) throw new HttpFailure(401, "Unauthorized request.");
    return { admin: false, auth: { uid: claims.uid, provider: claims.provider, token: claims.claims } };
  }

  /**
   * A service account's OAuth access token (access_token= or Authorization: Bearer, where the REST API takes them) is
   * the administrator, past the rules, when it carries the database scopes Firebase requires; without them, a 401.
   */
  #accessGrant(token: string): AccessTokenGrant | undefined {
    const grant = this.#options.tokens.verifyAccessToken(token, this.#options.now());
    if (!grant) return undefined;
    const database = grant.scopes.includes(DATABASE_SCOPE) || grant.scopes.includes(CLOUD_PLATFORM_SCOPE);
    if (!database || !grant.scopes.includes(EMAIL_SCOPE)) {
      throw new HttpFailure(401, `Unauthorized request: the access token for ${grant.clientEmail} lacks the scopes ${DATABASE_SCOPE} and ${EMAIL_SCOPE}`);
    }
    return grant;
  }

  async #rules(method: string, request: http.IncomingMessage, response: http.ServerResponse, namespace: string, store: NamespaceStore, requester: Requester) {
    if (!requester.admin) throw new HttpFailure(401, "Permission denied: rules need the administrator (Authorization: Bearer owner)");
    if (method === "GET") return this.#json(response, 200, store.rules.source);
    if (method !== "PUT") throw new HttpFailure(405, "rules take GET or PUT");
    let source: object;
    try {
      source = JSON.parse(withoutComments(await readBody(request))) as object;
      new Rules(source);
    } catch (error) {
      throw new HttpFailure(400, error instanceof RulesError ? `Invalid rules: ${error.message}` : `Invalid rules: not JSON (${(error as Error).message})`);
    }
    await store.commit({ rules: source });
    // Streams the new rules deny end now, not at the next write that touches them
    for (const listener of [...(this.#listeners.get(namespace) ?? [])]) {
      if (!store.rules.canRead(listener.path, store.root, listener.requester, this.#options.now())) cancel(listener);
    }
    this.#json(response, 200, { status: "ok" });
  }

  async #write(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    namespace: string,
    store: NamespaceStore,
    requester: Requester,
    record: { set: string[]; value: JsonValue } | { update: string[]; values: [string[], JsonValue][] },
    answer: unknown,
    print: string | null,
  ): Promise<void> {
    const now = this.#options.now();
    const writes = writesOf(record);
    const paths = writes.map(([at]) => at);
    const after = readerAfter(store.root, writes);
    for (const at of paths) {
      if (!store.rules.canWrite(at, store.root, after, requester, now)) throw new HttpFailure(401, "Permission denied");
      const failed = store.rules.failedValidation(at, store.root, after, requester, now);
      if (failed) throw new HttpFailure(401, `Permission denied: .validate failed at ${failed}`);
    }
    const ifMatch = request.headers["if-match"];
    if (ifMatch !== undefined && "set" in record) {
      const current = store.get(record.set);
      const etag = etagOf(current);
      if (ifMatch !== etag) {
        response.writeHead(412, { "content-type": "application/json", ETag: etag });
        response.end(JSON.stringify(toWire(current)));
        return;
      }
    }
    const durable = store.commit(record);
    // What listeners and the caller are told is taken now, as of this write; it is sent once the write is durable.
    const events = "update" in record ? this.#notifyUpdate(namespace, record.update, record.values.map(([segments]) => segments)) : this.#notify(namespace, record.set);
    const stored = "set" in record ? store.get(record.set) : null;
    const body = answer === STORED ? toWire(stored) : answer;
    const etag = request.headers["x-firebase-etag"] === "true" ? etagOf(stored) : undefined;
    try {
      await durable;
    } catch (error) {
      throw new HttpFailure(500, (error as Error).message);
    }
    for (const send of events) send();
    this.#options.onWrite?.(namespace, paths);
    return this.#answer(request, response, 200, body, stored, print, {}, etag);
  }

  #answer(request: http.IncomingMessage, response: http.ServerResponse, status: number, body: unknown, stored: JsonValue, print: string | null, rest: RestParameters = {}, etag?: string): void {
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (request.headers["x-firebase-etag"] === "true") headers.ETag = etag ?? etagOf(stored);
    // download=<name>: the browser saves the data as that file (REST reference, "download")
    if (rest.download !== undefined) headers["Content-Disposition"] = `attachment; filename="${rest.download}"`;
    if (print === "silent") {
      response.writeHead(204, headers);
      response.end();
      return;
    }
    let text = print === "pretty" ? JSON.stringify(body, null, 2) : JSON.stringify(body);
    // callback=<name>: JSONP, the data handed to that function (REST reference, "callback")
    if (rest.callback !== undefined) {
      headers["content-type"] = "application/javascript; charset=utf-8";
      text = `${rest.callback}(${text});`;
    }
    response.writeHead(status, headers);
    response.end(text);
  }

  /**
   * A stream of the location, or of a query there: the REST API streams a query's result as the location's, the
   * first put holding the children in the window and each later put a child entering, changing or leaving it (null).
   */
  #stream(request: http.IncomingMessage, response: http.ServerResponse, namespace: string, store: NamespaceStore, path: string[], requester: Requester, params: URLSearchParams): void {
    if (!store.rules.canRead(path, store.root, requester, this.#options.now())) throw new HttpFailure(401, "Permission denied");
    const query = restQuery(params, store.rules, path, this.#options.enforceIndexes === true);
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    let listeners = this.#listeners.get(namespace);
    if (!listeners) this.#listeners.set(namespace, (listeners = new Set()));
    const url = new URL(request.url ?? "/", "http://e");
    const oauth = url.searchParams.get("access_token") ?? request.headers.authorization?.replace(/^Bearer\s+/i, "");
    const token = url.searchParams.get("auth") ?? oauth;
    const claims = token && token !== "owner" ? (this.#options.tokens.verify(token, this.#options.now()) ?? (token === oauth ? this.#accessGrant(token) : undefined)) : undefined;
    const listener: Listener = {
      path,
      query: query ? { apply: query, sent: new Map() } : undefined,
      requester,
      expiresAt: claims ? claims.exp * 1000 : undefined,
      closed: false,
      send: (event, data) => {
        if (!listener.closed) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      close: () => {
        listener.closed = true;
        listeners!.delete(listener);
        response.end();
      },
    };
    listeners.add(listener);
    request.on("close", () => {
      listener.closed = true;
      listeners!.delete(listener);
    });
    if (listener.query) {
      const window = listener.query.apply(store.get(path));
      for (const [key, child] of Object.entries(window ?? {})) listener.query.sent.set(key, JSON.stringify(toWire(child)));
      listener.send("put", { path: "/", data: toWire(window) });
    } else listener.send("put", { path: "/", data: toWire(store.get(path)) });
  }

  /** A streamed query's events after a write near it: a put for each child whose place in the result changed. */
  #queryEvents(listener: Listener, store: NamespaceStore, events: (() => void)[]): void {
    const { sent, apply } = listener.query!;
    const window = (apply(store.get(listener.path)) ?? {}) as Record<string, JsonValue>;
    const put = (key: string, text: string) => events.push(() => listener.send("put", { path: `/${key}`, data: JSON.parse(text) as JsonValue }));
    for (const key of [...sent.keys()]) {
      if (Object.hasOwn(window, key)) continue;
      sent.delete(key);
      put(key, "null");
    }
    for (const [key, child] of Object.entries(window)) {
      const text = JSON.stringify(toWire(child));
      if (sent.get(key) === text) continue;
      sent.set(key, text);
      put(key, text);
    }
  }

  /** The stream events a write at `written` causes, as closures to run once the write is durable. */
  #notify(namespace: string, written: string[], only: (listenerPath: string[]) => boolean = () => true, events: (() => void)[] = []): (() => void)[] {
    const store = this.store(namespace);
    for (const listener of this.#listeners.get(namespace) ?? []) {
      const { path } = listener;
      if (!only(path)) continue;
      const below = written.length >= path.length && path.every((key, i) => written[i] === key);
      const above = written.length < path.length && written.every((key, i) => path[i] === key);
      if (!below && !above) continue;
      if (!store.rules.canRead(path, store.root, listener.requester, this.#options.now())) {
        events.push(() => cancel(listener));
        continue;
      }
      if (listener.query) {
        this.#queryEvents(listener, store, events);
        continue;
      }
      const data = below ? { path: `/${written.slice(path.length).join("/")}`, data: toWire(store.get(written)) } : { path: "/", data: toWire(store.get(path)) };
      events.push(() => listener.send("put", data));
    }
    return events;
  }

  /**
   * A PATCH as Firebase streams it: listeners at or above the patched location get one `patch` event whose data holds
   * every updated child (keys may be paths); listeners inside an updated child get a `put` of what changed there.
   */
  #notifyUpdate(namespace: string, base: string[], children: string[][]): (() => void)[] {
    const store = this.store(namespace);
    const events: (() => void)[] = [];
    for (const listener of this.#listeners.get(namespace) ?? []) {
      const { path } = listener;
      const atOrAbove = path.length <= base.length && path.every((key, i) => base[i] === key);
      if (!atOrAbove) continue;
      if (!store.rules.canRead(path, store.root, listener.requester, this.#options.now())) {
        events.push(() => cancel(listener));
        continue;
      }
      if (listener.query) {
        this.#queryEvents(listener, store, events);
        continue;
      }
      const data: Record<string, unknown> = {};
      for (const child of children) data[child.join("/")] = toWire(store.get([...base, ...child]));
      const patch = { path: `/${base.slice(path.length).join("/")}`, data };
      events.push(() => listener.send("patch", patch));
    }
    const insideBase = (path: string[]) => path.length > base.length && base.every((key, i) => path[i] === key);
    for (const child of children) this.#notify(namespace, [...base, ...child], insideBase, events);
    return events;
  }

  #json(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify(body));
  }
}

/**
 * A stream its rules now deny is told so and closed (once per listener, however many writes denied it), with the
 * text Firebase gives this cause (https://firebase.google.com/docs/reference/rest/database, "Streaming from the REST
 * API", cancel: "Permission denied.").
 */
function cancel(listener: Listener): void {
  if (listener.closed) return;
  listener.send("cancel", "Permission denied.");
  listener.close();
}

/**
 * Conditional requests as Firebase's table of expected responses has them (https://firebase.google.com/docs/
 * reference/rest/database, "Conditional Requests"): if-match conditions a PUT or a DELETE, and is not supported on a
 * GET, a POST or a PATCH; X-Firebase-ETag is taken on anything but a PATCH. Both are 400s.
 */
function conditionalHeaders(request: http.IncomingMessage, method: string): void {
  if (request.headers["if-match"] !== undefined && method !== "PUT" && method !== "DELETE") {
    throw new HttpFailure(400, `if-match is not supported on a ${method}: it conditions a PUT or a DELETE of one location`);
  }
  if (request.headers["x-firebase-etag"] !== undefined && method === "PATCH") {
    throw new HttpFailure(400, "X-Firebase-ETag is not supported on a PATCH: ask for the ETag with a GET (or a PUT) of the location");
  }
}

/** The longest path `value` holds, written at `at`, in UTF-8 bytes ("/a/b" counts 4). */
function longestPathBytes(value: JsonValue, at: string[]): number {
  let longest = 0;
  const pending: [JsonValue, number][] = [[value, Buffer.byteLength(`/${at.join("/")}`)]];
  while (pending.length) {
    const [item, bytes] = pending.pop()!;
    if (bytes > longest) longest = bytes;
    if (item === null || typeof item !== "object") continue;
    const separator = bytes > 1 ? 1 : 0; // "/" alone is the root: its first key needs no second slash
    for (const [key, child] of Object.entries(item)) pending.push([child as JsonValue, bytes + separator + Buffer.byteLength(key)]);
  }
  return longest;
}

/**
 * Checks a value about to be written at `at`: Firebase's value rules, and its depth and path length counted from the
 * root, as the SDK's ValidationPath counts them (packages/database/src/core/util/Path.ts: the write's own path plus
 * the value's keys, at most 32 of them and 768 bytes), so nothing is stored that a path could not reach.
 */
function checkData(value: JsonValue, at: string[]): void {
  const below = depthOf(value, MAX_TREE_DEPTH);
  if (at.length + below > MAX_TREE_DEPTH) {
    throw new HttpFailure(
      400,
      `Invalid data; path specified exceeds the maximum depth that can be written (${MAX_TREE_DEPTH}): the value at /${at.join("/")} nests ${below > MAX_TREE_DEPTH ? `more than ${MAX_TREE_DEPTH}` : below} levels, and ${MAX_TREE_DEPTH - at.length} fit below a location ${at.length} deep (Firebase counts depth from the root) — flatten it`,
    );
  }
  const bytes = longestPathBytes(value, at);
  if (bytes > MAX_PATH_BYTES) {
    throw new HttpFailure(400, `Invalid data; a key path in the value at /${at.join("/")} is ${bytes} bytes long (UTF-8); Firebase's paths are at most ${MAX_PATH_BYTES} — use shorter keys or fewer levels`);
  }
  try {
    checkValue(value, `/${at.join("/")}`, at.length);
  } catch (error) {
    throw new HttpFailure(400, `Invalid data; ${(error as Error).message}`);
  }
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpFailure(413, `Payload too large: a single write is limited to ${MAX_BODY_BYTES / 1024 / 1024} MB here`);
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes)) throw new HttpFailure(400, "Invalid data; the body is not valid UTF-8.");
  return text;
}

/** ETags: a hash of the stored value; "null_etag" for nothing. */
export function etagOf(value: JsonValue): string {
  if (value === null) return "null_etag";
  return crypto.createHash("sha1").update(JSON.stringify(value)).digest("base64");
}

/** Replaces {".sv": "timestamp"} and {".sv": {"increment": n}} with their values, where they are written. */
export function resolveServerValues(value: JsonValue, at: string[], root: JsonValue, now: number): JsonValue {
  if (value === null || typeof value !== "object") return value;
  if (!Array.isArray(value) && ".sv" in value) {
    const sv = value[".sv"];
    if (sv === "timestamp") return now;
    if (sv && typeof sv === "object" && !Array.isArray(sv) && typeof sv.increment === "number") {
      const current = getAt(root, at);
      return (typeof current === "number" ? current : 0) + sv.increment;
    }
    throw new HttpFailure(400, `Invalid data; unknown server value ${JSON.stringify(sv)}`);
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveServerValues(item, [...at, String(i)], root, now));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveServerValues(v, [...at, k], root, now)]));
}

/** Objects whose keys are all small non-negative integers, densely, read back as arrays (Firebase's rule). */
/** The value as a plain GET shows it: no ".priority" keys, and a primitive with a priority as the primitive itself. */
export function withoutPriorities(value: JsonValue): JsonValue {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  if (".value" in value) return value[".value"]!;
  const plain: Record<string, JsonValue> = {};
  for (const [key, child] of Object.entries(value)) if (key !== ".priority") plain[key] = withoutPriorities(child);
  return plain;
}

export function toWire(value: JsonValue): JsonValue {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted = Object.fromEntries(keys.map((k) => [k, toWire(value[k]!)])) as Record<string, JsonValue>;
  const indexes = keys.map((k) => (/^(0|[1-9]\d{0,8})$/.test(k) ? Number(k) : -1));
  if (keys.length > 0 && indexes.every((i) => i >= 0)) {
    const max = Math.max(...indexes);
    if (max < 2 * keys.length) return Array.from({ length: max + 1 }, (_, i) => converted[String(i)] ?? null);
  }
  return converted;
}

