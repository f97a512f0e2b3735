import { Backoff, type BackoffOptions } from "../../core/backoff.ts";
import { EsplabError, ProtocolError, TimeoutError } from "../../core/errors.ts";
import { jsonNesting } from "../../core/json-depth.ts";
import type { TimerHandle } from "../../ports/clock.ts";
import type { HttpStream } from "../http/client.ts";
import { HttpError } from "../http/errors.ts";
import { SseParser, type SseEvent } from "../http/sse.ts";
import type { JsonValue } from "./ordering.ts";
import type { Query } from "./query.ts";
import type { Database } from "./rtdb.ts";
import { type Change, MAX_TREE_DEPTH, depthOf, diff, getAt, normalize, setAt } from "./tree.ts";

export type { Change } from "./tree.ts";

export type StreamStatus = "connecting" | "live" | "reconnecting" | "cancelled" | "closed";

export interface StreamHandlers {
  /** Real changes since the last call (never empty, never repeated), and the whole local copy after them. */
  onChange(changes: Change[], value: JsonValue): void;
  /**
   * The stream ended for good (`cancel` from the server, rules refusing, a bad path, an event this side cannot
   * take: StreamEventError); it will not reconnect. Every error given here is a StreamCancelledError.
   */
  onCancel?(error: EsplabError): void;
  /** A passing problem (dropped connection, silence, bad frame); the stream reconnects by itself. */
  onError?(error: Error): void;
  onStatus?(status: StreamStatus): void;
}

export interface StreamOptions {
  /**
   * Streams a query's window instead of the whole location (orderBy with startAt/endAt/equalTo/limitTo…): the server
   * sends the children that enter the window and a null for each that leaves it, so the local copy is the query's result.
   */
  query?: Query;
  /** With no byte for this long (Firebase sends keep-alive every ~30 s) the connection is presumed dead. */
  silenceMs?: number;
  backoff?: BackoffOptions;
  /** Bound on one event (a big initial `put` is one event). */
  maxEventBytes?: number;
}

export class StreamCancelledError extends EsplabError {}

/**
 * The server sent an event this side cannot apply, and would send it again after a reconnect: `BAD_STREAM_EVENT`
 * (not JSON, no path) twice without a good sync between, or `STREAM_EVENT_TOO_DEEP` (deeper than Firebase's
 * 32 levels). The stream stops instead of reconnecting into the same event forever.
 */
export class StreamEventError extends StreamCancelledError {}

/**
 * One listener on a database location. Keeps a normalized local copy from `put`/`patch` events; on reconnect the
 * server's fresh `put /` replaces it and only the differences are reported, so nothing is missed or reported twice.
 */
export class RtdbStream {
  readonly #db: Database;
  readonly #path: string;
  readonly #handlers: StreamHandlers;
  readonly #silenceMs: number;
  readonly #maxEventBytes: number;
  readonly #backoff: Backoff;
  #value: JsonValue = null;
  #synced = false;
  #status: StreamStatus = "connecting";
  #connection: HttpStream | undefined;
  #generation = 0;
  #silenceTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #refreshedFor401 = false;
  #connects = 0;
  /** The last drop was for a malformed event and no sync has succeeded since: a second one stops the stream. */
  #droppedForBadEvent = false;
  readonly #queryParams: Record<string, string | number>;

  constructor(db: Database, path: string, handlers: StreamHandlers, options: StreamOptions) {
    this.#db = db;
    this.#path = path;
    this.#handlers = handlers;
    this.#silenceMs = options.silenceMs ?? 45_000;
    this.#maxEventBytes = options.maxEventBytes ?? 64 * 1024;
    this.#queryParams = options.query?.toParams() ?? {};
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.3 });
    void this.#connect(false);
  }

  /** The local copy of the location. */
  get value(): JsonValue {
    return this.#value;
  }
  get status(): StreamStatus {
    return this.#status;
  }
  /** Connections opened so far (1 + reconnects). */
  get connects(): number {
    return this.#connects;
  }

  close(): void {
    if (this.#status === "closed" || this.#status === "cancelled") return;
    this.#stop("closed");
  }

  async #connect(forceRefresh: boolean): Promise<void> {
    const generation = ++this.#generation;
    this.#setStatus(this.#connects === 0 ? "connecting" : "reconnecting");
    this.#connects++;
    const parser = new SseParser({ onEvent: (event) => this.#onEvent(generation, event), maxEventBytes: this.#maxEventBytes });
    try {
      const url = await this.#db.urlFor(this.#path, this.#queryParams, forceRefresh);
      if (generation !== this.#generation) return;
      const connection = await this.#db.http.stream(
        { url, headers: { Accept: "text/event-stream" } },
        {
          onData: (bytes) => {
            if (generation !== this.#generation) return;
            this.#armSilence(generation);
            try {
              parser.push(bytes);
            } catch (error) {
              // An event too big for this device would be too big again after every reconnect: stop, say why.
              if (error instanceof ProtocolError && error.code === "SSE_EVENT_TOO_LARGE") this.#cancel(`listening at ${this.#path}: ${error.message}`, error);
              else this.#drop(generation, error as Error);
            }
          },
          onEnd: (error) => {
            if (generation !== this.#generation) return;
            this.#drop(generation, error ?? new EsplabError("STREAM_ENDED", `the server ended the stream at ${this.#path}`));
          },
        },
      );
      if (generation !== this.#generation) {
        connection.close();
        return;
      }
      this.#connection = connection;
      this.#armSilence(generation);
    } catch (error) {
      if (generation !== this.#generation) return;
      if (error instanceof HttpError && error.status === 401 && this.#db.auth && !this.#refreshedFor401) {
        this.#refreshedFor401 = true;
        this.#db.auth.invalidate();
        void this.#connect(true);
        return;
      }
      if (error instanceof HttpError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
        this.#cancel(`listening at ${this.#path} was refused: ${error.message}`, error);
        return;
      }
      this.#drop(generation, error as Error);
    }
  }

  #onEvent(generation: number, event: SseEvent): void {
    if (generation !== this.#generation) return;
    switch (event.type) {
      case "put":
      case "patch": {
        // Depth is checked on the text first: JSON.parse recurses in some engines, and 64 KB of "[" is a valid event.
        if (jsonNesting(event.data, MAX_TREE_DEPTH + 1) > MAX_TREE_DEPTH + 1) {
          this.#tooDeep(event.type);
          return;
        }
        let message: { path?: unknown; data?: unknown };
        try {
          message = JSON.parse(event.data) as { path?: unknown; data?: unknown };
        } catch {
          this.#badEvent(generation, `a ${event.type} event at ${this.#path || "/"} is not JSON (${safeSnippet(event.data)})`);
          return;
        }
        if (!message || typeof message !== "object" || typeof message.path !== "string") {
          this.#badEvent(generation, `a ${event.type} event at ${this.#path || "/"} has no path`);
          return;
        }
        const segments = message.path.split("/").filter((s) => s !== "");
        const data = (message.data ?? null) as JsonValue;
        if (this.#deepestChange(event.type, segments, data) > MAX_TREE_DEPTH) {
          this.#tooDeep(event.type);
          return;
        }
        this.#apply(event.type, segments, data);
        return;
      }
      case "keep-alive":
        return;
      case "cancel":
        this.#cancel(`the server cancelled listening at ${this.#path}${event.data && event.data !== "null" ? `: ${safeText(event.data)}` : ""} — usually the security rules no longer allow reading it`);
        return;
      case "auth_revoked":
        // The ID token expired or was revoked: reconnect at once with a fresh one; the resync covers the gap.
        this.#db.auth?.invalidate();
        this.#generation++;
        this.#closeConnection();
        this.#handlers.onError?.(new EsplabError("AUTH_REVOKED", `the server revoked the stream's credentials at ${this.#path}; reconnecting with a fresh token`));
        void this.#connect(true);
        return;
      default:
        return;
    }
  }

  /** How far below the location the event's data reaches (path segments plus nesting), capped at 33. */
  #deepestChange(type: "put" | "patch", segments: string[], data: JsonValue): number {
    const room = MAX_TREE_DEPTH + 1;
    if (segments.length > MAX_TREE_DEPTH) return room;
    if (type === "put" || data === null || typeof data !== "object" || Array.isArray(data)) return segments.length + depthOf(data, room);
    let deepest = segments.length;
    for (const key of Object.keys(data)) {
      const below = segments.length + key.split("/").filter((s) => s !== "").length;
      if (below > MAX_TREE_DEPTH) return room;
      deepest = Math.max(deepest, below + depthOf(data[key]!, room - below));
      if (deepest > MAX_TREE_DEPTH) return room;
    }
    return deepest;
  }

  #tooDeep(type: string): void {
    this.#refuse(
      new StreamEventError(
        "STREAM_EVENT_TOO_DEEP",
        `a ${type} event at ${this.#path || "/"} goes deeper than Firebase's ${MAX_TREE_DEPTH} levels; the stream stopped — listen on a part of it`,
      ),
    );
  }

  /** A malformed event: resync once; the same again before a good sync means the server keeps sending it. */
  #badEvent(generation: number, what: string): void {
    if (this.#droppedForBadEvent) {
      this.#refuse(new StreamEventError("BAD_STREAM_EVENT", `${what}, again after resyncing; the stream stopped — check what writes there, then listen again`));
      return;
    }
    this.#droppedForBadEvent = true;
    this.#drop(generation, new ProtocolError("BAD_STREAM_EVENT", `${what}; resyncing`));
  }

  #apply(type: "put" | "patch", segments: string[], data: JsonValue): void {
    const before = this.#value;
    let after: JsonValue;
    if (type === "put") {
      after = setAt(before, segments, data);
    } else {
      after = before;
      if (data !== null && typeof data === "object" && !Array.isArray(data)) {
        for (const key of Object.keys(data)) {
          after = setAt(after, [...segments, ...key.split("/").filter((s) => s !== "")], data[key]!);
        }
      }
    }
    const firstSync = !this.#synced && type === "put" && segments.length === 0;
    if (firstSync) {
      this.#synced = true;
      this.#droppedForBadEvent = false;
      this.#refreshedFor401 = false;
      this.#backoff.reset();
      this.#setStatus("live");
    }
    this.#value = after;
    const base = segments.length === 0 ? "" : `/${segments.join("/")}`;
    const changes = diff(getAt(before, segments), getAt(after, segments), base);
    if (changes.length > 0) this.#handlers.onChange(changes, after);
  }

  #armSilence(generation: number): void {
    this.#db.clock.clear(this.#silenceTimer);
    this.#silenceTimer = this.#db.clock.setTimeout(() => {
      if (generation !== this.#generation) return;
      this.#drop(generation, new TimeoutError("STREAM_SILENT", `no data or keep-alive at ${this.#path} for ${this.#silenceMs / 1000} s; reconnecting`));
    }, this.#silenceMs);
  }

  /** The connection failed or went quiet: report it, wait the backoff, reconnect and resync. */
  #drop(generation: number, error: Error): void {
    if (generation !== this.#generation || this.#status === "closed" || this.#status === "cancelled") return;
    this.#generation++;
    this.#closeConnection();
    this.#synced = false;
    this.#handlers.onError?.(error);
    this.#setStatus("reconnecting");
    const wait = this.#backoff.next();
    this.#retryTimer = this.#db.clock.setTimeout(() => void this.#connect(false), wait);
  }

  #cancel(message: string, cause?: unknown): void {
    this.#refuse(new StreamCancelledError("STREAM_CANCELLED", message, { cause }));
  }

  #refuse(error: StreamCancelledError): void {
    this.#stop("cancelled");
    this.#handlers.onCancel?.(error);
  }

  #stop(status: StreamStatus): void {
    this.#generation++;
    this.#closeConnection();
    this.#db.clock.clear(this.#retryTimer);
    this.#setStatus(status);
  }

  #closeConnection(): void {
    this.#db.clock.clear(this.#silenceTimer);
    this.#silenceTimer = undefined;
    this.#synced = false;
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close();
  }

  #setStatus(status: StreamStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.#handlers.onStatus?.(status);
  }
}

/** The start of an event's text for a message, control characters shown as "·". */
function safeSnippet(data: string): string {
  let out = "";
  for (let i = 0; i < data.length && i < 40; i++) {
    const c = data.charCodeAt(i);
    out += c < 0x20 || c === 0x7f ? "·" : data[i];
  }
  return data.length > 40 ? `${out}…` : out;
}

function safeText(data: string): string {
  try {
    const parsed = JSON.parse(data) as unknown;
    return typeof parsed === "string" ? parsed : data;
  } catch {
    return data;
  }
}
