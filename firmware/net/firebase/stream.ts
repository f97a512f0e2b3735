import { Backoff, type BackoffOptions } from "../../core/backoff.ts";
import { EsplabError, ProtocolError, TimeoutError } from "../../core/errors.ts";
import type { TimerHandle } from "../../ports/clock.ts";
import type { HttpStream } from "../http/client.ts";
import { HttpError } from "../http/errors.ts";
import { SseParser, type SseEvent } from "../http/sse.ts";
import type { JsonValue } from "./ordering.ts";
import type { Database } from "./rtdb.ts";
import { type Change, diff, getAt, normalize, setAt } from "./tree.ts";

export type { Change } from "./tree.ts";

export type StreamStatus = "connecting" | "live" | "reconnecting" | "cancelled" | "closed";

export interface StreamHandlers {
  /** Real changes since the last call (never empty, never repeated), and the whole local copy after them. */
  onChange(changes: Change[], value: JsonValue): void;
  /** The stream ended for good (`cancel` from the server, rules refusing, a bad path); it will not reconnect. */
  onCancel?(error: EsplabError): void;
  /** A passing problem (dropped connection, silence, bad frame); the stream reconnects by itself. */
  onError?(error: Error): void;
  onStatus?(status: StreamStatus): void;
}

export interface StreamOptions {
  /** With no byte for this long (Firebase sends keep-alive every ~30 s) the connection is presumed dead. */
  silenceMs?: number;
  backoff?: BackoffOptions;
  /** Bound on one event (a big initial `put` is one event). */
  maxEventBytes?: number;
}

export class StreamCancelledError extends EsplabError {}

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

  constructor(db: Database, path: string, handlers: StreamHandlers, options: StreamOptions) {
    this.#db = db;
    this.#path = path;
    this.#handlers = handlers;
    this.#silenceMs = options.silenceMs ?? 45_000;
    this.#maxEventBytes = options.maxEventBytes ?? 64 * 1024;
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
      const url = await this.#db.urlFor(this.#path, {}, forceRefresh);
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
        let message: { path?: unknown; data?: unknown };
        try {
          message = JSON.parse(event.data) as { path?: unknown; data?: unknown };
        } catch {
          this.#drop(generation, new ProtocolError("BAD_STREAM_EVENT", `a ${event.type} event at ${this.#path} is not JSON (${event.data.slice(0, 40)}); resyncing`));
          return;
        }
        if (!message || typeof message.path !== "string") {
          this.#drop(generation, new ProtocolError("BAD_STREAM_EVENT", `a ${event.type} event at ${this.#path} has no path; resyncing`));
          return;
        }
        this.#apply(event.type, message.path, (message.data ?? null) as JsonValue);
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

  #apply(type: "put" | "patch", path: string, data: JsonValue): void {
    const segments = path.split("/").filter((s) => s !== "");
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
    this.#stop("cancelled");
    this.#handlers.onCancel?.(new StreamCancelledError("STREAM_CANCELLED", message, { cause }));
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

function safeText(data: string): string {
  try {
    const parsed = JSON.parse(data) as unknown;
    return typeof parsed === "string" ? parsed : data;
  } catch {
    return data;
  }
}
