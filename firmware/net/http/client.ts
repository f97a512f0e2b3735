import { TimeoutError, TransportError, UsageError } from "../../core/errors.ts";
import { utf8Decode, utf8Encode } from "../../core/utf8.ts";
import type { Clock, TimerHandle } from "../../ports/clock.ts";
import type { Connection, TlsOptions, Transport } from "../../ports/transport.ts";
import { HttpError, HttpProtocolError, preview } from "./errors.ts";
import type { HttpHeaders } from "./headers.ts";
import { buildRequest } from "./request.ts";
import { type ResponseHead, ResponseParser } from "./response-parser.ts";
import { type ParsedUrl, parseUrl, resolveLocation } from "./url.ts";

export interface HttpClientOptions {
  transport: Transport;
  clock: Clock;
  /** Whole-exchange limit (connect, send, full response) unless a request says otherwise. */
  timeoutMs?: number;
  maxHeaderBytes?: number;
  /** Default bound on a buffered response body. */
  maxBodyBytes?: number;
  /** 307/308 hops followed before giving up. */
  maxRedirects?: number;
  /** A kept-alive connection unused this long is closed before the server drops it under us. */
  idleTimeoutMs?: number;
  /** TLS settings for https origins (root certificates on the device). */
  tls?: TlsOptions;
  userAgent?: string;
}

export interface HttpRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
  maxBodyBytes?: number;
}

export interface HttpResponse {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  statusText: string;
  headers: HttpHeaders;
  body: Uint8Array;
}

export interface StreamHandlers {
  /** Body bytes as they arrive. */
  onData(bytes: Uint8Array): void;
  /** The body ended: cleanly (no error) or not. Called once, also after `close()`. */
  onEnd(error?: Error): void;
}

export interface HttpStream {
  url: string;
  status: number;
  headers: HttpHeaders;
  close(): void;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const ERROR_BODY_LIMIT = 8 * 1024;

/** A kept-alive connection and where its bytes go now. */
class PooledConnection {
  connection!: Connection;
  closed = false;
  idleTimer: TimerHandle | undefined;
  onData: (bytes: Uint8Array) => void = () => {};
  onClose: (error?: Error) => void = () => {};
}

/**
 * HTTP/1.1 over the Transport seam. One request at a time per origin on one kept-alive connection (a device has RAM
 * for one TLS session, not a pool); a stream (SSE) gets a connection of its own for its lifetime. Timeouts run on the
 * Clock; every buffer is bounded.
 */
export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #idle = new Map<string, PooledConnection>();
  readonly #queues = new Map<string, Promise<void>>();
  #connectionsOpened = 0;

  constructor(options: HttpClientOptions) {
    this.#options = options;
  }

  /** Connections this client has opened so far (reuse shows as a small number). */
  get connectionsOpened(): number {
    return this.#connectionsOpened;
  }

  /** Sends a request and buffers the whole response, following 307/308. Any status is returned, not thrown. */
  async request(request: HttpRequest): Promise<HttpResponse> {
    const method = (request.method ?? "GET").toUpperCase();
    const body = typeof request.body === "string" ? utf8Encode(request.body) : request.body;
    const deadline = this.#options.clock.now() + (request.timeoutMs ?? this.#options.timeoutMs ?? 15_000);
    let url = request.url;
    for (let hop = 0; ; hop++) {
      const response = await this.#serialised(parseUrl(url).origin, () =>
        this.#bufferedExchange(method, url, request, body, deadline),
      );
      const location = response.headers.get("location");
      if ((response.status === 307 || response.status === 308) && location !== undefined) {
        if (hop >= (this.#options.maxRedirects ?? 5)) throw tooManyRedirects(method, request.url);
        url = resolveLocation(url, location);
        continue;
      }
      return response;
    }
  }

  /**
   * Opens a long-lived response (Server-Sent Events): resolves once a 2xx head arrives, then hands body bytes to
   * `handlers`. Follows 307/308. A non-2xx answer is read (bounded) and thrown as HttpError.
   */
  async stream(request: HttpRequest, handlers: StreamHandlers): Promise<HttpStream> {
    const method = (request.method ?? "GET").toUpperCase();
    const deadline = this.#options.clock.now() + (request.timeoutMs ?? this.#options.timeoutMs ?? 15_000);
    let url = request.url;
    for (let hop = 0; ; hop++) {
      const outcome = await this.#streamExchange(method, url, request, deadline, handlers);
      if ("close" in outcome) return outcome;
      const location = outcome.headers.get("location");
      if ((outcome.status === 307 || outcome.status === 308) && location !== undefined) {
        if (hop >= (this.#options.maxRedirects ?? 5)) throw tooManyRedirects(method, request.url);
        url = resolveLocation(url, location);
        continue;
      }
      throw httpErrorFor(method, outcome);
    }
  }

  /** Closes every kept-alive connection. */
  close(): void {
    for (const pooled of this.#idle.values()) this.#discard(pooled);
    this.#idle.clear();
  }

  /** Runs exchanges to one origin one after another: one request in flight per connection. */
  async #serialised<T>(origin: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(origin) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#queues.set(origin, tail);
    await previous;
    try {
      return await run();
    } finally {
      release();
      if (this.#queues.get(origin) === tail) this.#queues.delete(origin);
    }
  }

  async #bufferedExchange(
    method: string,
    url: string,
    request: HttpRequest,
    body: Uint8Array | undefined,
    deadline: number,
  ): Promise<HttpResponse> {
    const parsed = parseUrl(url);
    const pooled = this.#idle.get(parsed.origin);
    this.#idle.delete(parsed.origin);
    if (pooled) {
      this.#options.clock.clear(pooled.idleTimer);
      try {
        return await this.#exchangeOn(pooled, method, url, parsed, request, body, deadline);
      } catch (error) {
        // The server may have dropped the idle connection just as we reused it; a fresh one is safe to try only
        // when nothing came back and repeating the request cannot apply it twice.
        if (!(error instanceof StaleConnectionError) || !IDEMPOTENT.has(method)) throw unwrapStale(error, method, url);
      }
    }
    const fresh = await this.#connect(parsed, deadline);
    try {
      return await this.#exchangeOn(fresh, method, url, parsed, request, body, deadline);
    } catch (error) {
      throw unwrapStale(error, method, url);
    }
  }

  #exchangeOn(
    pooled: PooledConnection,
    method: string,
    url: string,
    parsed: ParsedUrl,
    request: HttpRequest,
    body: Uint8Array | undefined,
    deadline: number,
  ): Promise<HttpResponse> {
    const clock = this.#options.clock;
    return new Promise<HttpResponse>((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let size = 0;
      let head: ResponseHead | undefined;
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clock.clear(timer);
        pooled.onData = () => {};
        pooled.onClose = () => {};
        if (error) {
          this.#discard(pooled);
          reject(error);
          return;
        }
        if (parser.reusable && !pooled.closed) this.#keep(parsed.origin, pooled);
        else this.#discard(pooled);
        const joined = new Uint8Array(size);
        let at = 0;
        for (const chunk of chunks) {
          joined.set(chunk, at);
          at += chunk.length;
        }
        resolve({ url, status: head!.status, statusText: head!.statusText, headers: head!.headers, body: joined });
      };
      const parser = new ResponseParser({
        method,
        maxHeaderBytes: this.#options.maxHeaderBytes,
        maxBodyBytes: request.maxBodyBytes ?? this.#options.maxBodyBytes ?? 64 * 1024,
        onHead: (h) => (head = h),
        onBody: (bytes) => {
          chunks.push(bytes.slice());
          size += bytes.length;
        },
        onComplete: () => finish(),
      });
      const timer = clock.setTimeout(
        () => finish(timeoutError(method, url, deadline - clock.now(), request.timeoutMs ?? this.#options.timeoutMs ?? 15_000)),
        Math.max(0, deadline - clock.now()),
      );
      pooled.onData = (bytes) => {
        try {
          parser.push(bytes);
        } catch (error) {
          finish(error as Error);
        }
      };
      pooled.onClose = (error) => {
        if (settled) return;
        if (!parser.started) {
          finish(new StaleConnectionError(error));
          return;
        }
        try {
          parser.end();
        } catch (parseError) {
          finish(error && !(parseError instanceof HttpProtocolError) ? error : (parseError as Error));
        }
      };
      try {
        pooled.connection.write(buildRequest(method, parsed, this.#headersFor(request), body));
      } catch (error) {
        finish(error instanceof UsageError ? error : new StaleConnectionError(error as Error));
      }
    });
  }

  async #streamExchange(
    method: string,
    url: string,
    request: HttpRequest,
    deadline: number,
    handlers: StreamHandlers,
  ): Promise<HttpStream | HttpResponse> {
    const parsed = parseUrl(url);
    const clock = this.#options.clock;
    const pooled = await this.#connect(parsed, deadline);
    const body = typeof request.body === "string" ? utf8Encode(request.body) : request.body;
    return new Promise<HttpStream | HttpResponse>((resolve, reject) => {
      let head: ResponseHead | undefined;
      let streaming = false;
      let ended = false;
      let settled = false;
      const errorChunks: Uint8Array[] = [];
      let errorSize = 0;
      const close = () => {
        this.#discard(pooled);
        end();
      };
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        this.#discard(pooled);
        handlers.onEnd(error);
      };
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clock.clear(timer);
        if (error) {
          this.#discard(pooled);
          reject(error);
          return;
        }
        if (streaming) {
          resolve({ url, status: head!.status, headers: head!.headers, close });
          return;
        }
        this.#discard(pooled);
        const joined = new Uint8Array(errorSize);
        let at = 0;
        for (const chunk of errorChunks) {
          joined.set(chunk, at);
          at += chunk.length;
        }
        resolve({ url, status: head!.status, statusText: head!.statusText, headers: head!.headers, body: joined });
      };
      const parser = new ResponseParser({
        method,
        maxHeaderBytes: this.#options.maxHeaderBytes,
        onHead: (h) => {
          head = h;
          if (h.status >= 200 && h.status < 300) {
            streaming = true;
            settle();
          }
        },
        onBody: (bytes) => {
          if (streaming) {
            if (!ended) handlers.onData(bytes.slice());
            return;
          }
          errorSize += bytes.length;
          if (errorSize <= ERROR_BODY_LIMIT) errorChunks.push(bytes.slice());
        },
        onComplete: () => {
          if (streaming) end();
          else settle();
        },
      });
      const timer = clock.setTimeout(
        () => settle(timeoutError(method, url, 0, request.timeoutMs ?? this.#options.timeoutMs ?? 15_000)),
        Math.max(0, deadline - clock.now()),
      );
      pooled.onData = (bytes) => {
        try {
          parser.push(bytes);
        } catch (error) {
          if (settled) end(error as Error);
          else settle(error as Error);
        }
      };
      pooled.onClose = (error) => {
        let failure: Error | undefined;
        try {
          parser.end();
        } catch (parseError) {
          failure = streaming && error ? error : (parseError as Error);
        }
        if (!settled) settle(failure ?? new TransportError("CLOSED", `${parsed.origin} closed the connection`));
        else if (streaming) end(failure ?? error);
      };
      try {
        pooled.connection.write(buildRequest(method, parsed, this.#headersFor(request), body));
      } catch (error) {
        settle(error as Error);
      }
    });
  }

  #headersFor(request: HttpRequest): Record<string, string> {
    const headers: Record<string, string> = { "User-Agent": this.#options.userAgent ?? "esplab" };
    const given = request.headers ?? {};
    for (const name of Object.keys(given)) headers[name] = given[name]!;
    return headers;
  }

  async #connect(url: ParsedUrl, deadline: number): Promise<PooledConnection> {
    const clock = this.#options.clock;
    const pooled = new PooledConnection();
    const remaining = Math.max(0, deadline - clock.now());
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.setTimeout(
        () => reject(new TimeoutError("CONNECT_TIMEOUT", `no connection to ${url.origin} within ${Math.round(remaining)} ms: check the host and the network`)),
        remaining,
      );
    });
    const connecting = this.#options.transport.connect(
      {
        host: url.host,
        port: url.port,
        timeoutMs: remaining,
        tls: url.scheme === "https" ? { serverName: url.host, ...this.#options.tls } : undefined,
      },
      {
        onData: (bytes) => pooled.onData(bytes),
        onClose: (error) => {
          pooled.closed = true;
          this.#options.clock.clear(pooled.idleTimer);
          if (this.#idle.get(url.origin) === pooled) this.#idle.delete(url.origin);
          pooled.onClose(error);
        },
      },
    );
    try {
      pooled.connection = await Promise.race([connecting, timeout]);
    } catch (error) {
      connecting.then((connection) => connection.close(), () => {});
      throw error;
    } finally {
      clock.clear(timer);
    }
    this.#connectionsOpened++;
    return pooled;
  }

  #keep(origin: string, pooled: PooledConnection): void {
    const previous = this.#idle.get(origin);
    if (previous && previous !== pooled) this.#discard(previous);
    this.#idle.set(origin, pooled);
    pooled.idleTimer = this.#options.clock.setTimeout(() => {
      if (this.#idle.get(origin) === pooled) this.#idle.delete(origin);
      this.#discard(pooled);
    }, this.#options.idleTimeoutMs ?? 30_000);
  }

  #discard(pooled: PooledConnection): void {
    this.#options.clock.clear(pooled.idleTimer);
    pooled.onData = () => {};
    if (pooled.closed) return;
    pooled.closed = true;
    try {
      pooled.connection?.close();
    } catch {
      // already gone
    }
  }
}

/** The connection closed before any byte of the answer: it may have been a stale kept-alive one. */
class StaleConnectionError extends Error {
  readonly reason: Error | undefined;
  constructor(reason?: Error) {
    super("connection closed before the response");
    this.reason = reason;
  }
}

function unwrapStale(error: unknown, method: string, url: string): unknown {
  if (!(error instanceof StaleConnectionError)) return error;
  const why = error.reason ? `: ${error.reason.message}` : "";
  return new TransportError(
    "NO_RESPONSE",
    `${method} ${redact(url)}: the server closed the connection without answering${why}` +
      (IDEMPOTENT.has(method) ? "" : "; the request may or may not have been applied, so check before repeating it"),
    { cause: error.reason },
  );
}

function timeoutError(method: string, url: string, _left: number, limitMs: number): TimeoutError {
  return new TimeoutError("HTTP_TIMEOUT", `${method} ${redact(url)} got no complete answer within ${limitMs} ms`);
}

function tooManyRedirects(method: string, url: string): HttpProtocolError {
  return new HttpProtocolError("TOO_MANY_REDIRECTS", `${method} ${redact(url)} redirected too many times; the server is in a redirect loop`);
}

/** A URL without its query, which may carry a token or API key, for error messages. */
export function redact(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

/** What the server said in an error body: a JSON `error`/`message` field, or the first bytes of anything else. */
export function serverMessageOf(response: { headers: HttpHeaders; body: Uint8Array }): string {
  const text = utf8Decode(response.body.subarray(0, ERROR_BODY_LIMIT));
  if (text.trim() === "") return "";
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object") {
      const error = (parsed as { error?: unknown; message?: unknown }).error ?? (parsed as { message?: unknown }).message;
      if (typeof error === "string") return error;
      if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
        return (error as { message: string }).message;
      }
    }
    return preview(text);
  } catch {
    const type = response.headers.get("content-type") ?? "";
    if (/html/i.test(type) || /^\s*</.test(text)) {
      const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text);
      return `an HTML page${title ? ` titled ${preview(title[1]!, 60)}` : ""} (${preview(text, 40)}), not an API answer: is the URL right, or is a proxy or captive portal in the way?`;
    }
    return preview(text);
  }
}

/** The HttpError for a non-2xx response, naming the request (without its query) and what the server said. */
export function httpErrorFor(method: string, response: HttpResponse): HttpError {
  const said = serverMessageOf(response);
  return new HttpError(
    response.status,
    `${method} ${redact(response.url)} failed with ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${said ? `: ${said}` : ""}`,
    said,
  );
}

/** Parses a JSON body; anything else is an HttpProtocolError that shows what came back. */
export function jsonBody(response: HttpResponse, what: string): unknown {
  const strict = utf8Decode(response.body);
  try {
    return JSON.parse(strict);
  } catch {
    const type = response.headers.get("content-type");
    throw new HttpProtocolError(
      "BAD_JSON",
      `${what}: expected JSON from ${redact(response.url)} but got ${response.body.length === 0 ? "an empty body" : preview(strict, 60)}` +
        (type ? ` (Content-Type ${type})` : "") +
        "; is the URL pointing at the right server?",
    );
  }
}

