import { ProtocolError } from "../../core/errors.ts";
import { utf8Decode } from "../../core/utf8.ts";

export interface SseEvent {
  /** The `event:` field; "message" when the server gave none. */
  type: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen on the stream (the spec's last event ID). */
  lastEventId: string;
}

export interface SseParserOptions {
  onEvent(event: SseEvent): void;
  /** A `retry:` field: the server's reconnect delay in ms. */
  onRetry?(ms: number): void;
  /** Bound on one event's bytes (all its lines); more is a ProtocolError (code SSE_EVENT_TOO_LARGE). */
  maxEventBytes?: number;
}

/**
 * A Server-Sent Events parser (WHATWG HTML §9.2.6) fed bytes split anywhere — inside a CRLF, inside a multi-byte
 * UTF-8 character. Lines are kept as bytes until complete, then decoded, so a split character is never mangled.
 */
export class SseParser {
  readonly #options: SseParserOptions;
  readonly #maxEventBytes: number;
  #line: Uint8Array = new Uint8Array(256);
  #lineLength = 0;
  #eventBytes = 0;
  #skipLf = false;
  #started = false;
  #type = "";
  #data: string[] = [];
  #lastEventId = "";
  #failed: ProtocolError | undefined;

  constructor(options: SseParserOptions) {
    this.#options = options;
    this.#maxEventBytes = options.maxEventBytes ?? 64 * 1024;
  }

  push(bytes: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      if (this.#skipLf) {
        this.#skipLf = false;
        if (byte === 10) continue;
      }
      if (byte === 13 || byte === 10) {
        this.#skipLf = byte === 13;
        this.#endLine();
        continue;
      }
      if (++this.#eventBytes > this.#maxEventBytes) {
        this.#failed = new ProtocolError(
          "SSE_EVENT_TOO_LARGE",
          `a server-sent event is larger than ${this.#maxEventBytes} bytes; listen on a smaller subtree or raise maxEventBytes`,
        );
        throw this.#failed;
      }
      if (this.#lineLength === this.#line.length) {
        const grown = new Uint8Array(Math.min(this.#line.length * 2, this.#maxEventBytes + 1));
        grown.set(this.#line);
        this.#line = grown;
      }
      this.#line[this.#lineLength++] = byte;
    }
  }

  #endLine(): void {
    let start = 0;
    if (!this.#started) {
      this.#started = true;
      if (this.#lineLength >= 3 && this.#line[0] === 0xef && this.#line[1] === 0xbb && this.#line[2] === 0xbf) start = 3;
    }
    const line = utf8Decode(this.#line, start, this.#lineLength);
    this.#lineLength = 0;
    if (line === "") {
      this.#dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#type = value;
        break;
      case "data":
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.#lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#options.onRetry?.(Number(value));
        break;
      default:
        break;
    }
  }

  #dispatch(): void {
    this.#eventBytes = 0;
    const type = this.#type || "message";
    const data = this.#data;
    this.#type = "";
    this.#data = [];
    if (data.length === 0) return;
    this.#options.onEvent({ type, data: data.join("\n"), lastEventId: this.#lastEventId });
  }
}
