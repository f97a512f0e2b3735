import { HttpProtocolError, preview } from "./errors.ts";
import { HttpHeaders } from "./headers.ts";
import { isHttpToken } from "./token.ts";

export interface ResponseHead {
  /** "1.0" or "1.1". */
  version: string;
  status: number;
  statusText: string;
  headers: HttpHeaders;
}

/** How the end of the body is found (RFC 9112 §6.3). */
export type Framing = "none" | "length" | "chunked" | "close";

export interface ResponseParserOptions {
  /** The request method: a HEAD response has no body whatever its headers say. */
  method: string;
  /** Bound on the status line plus headers, and separately on the trailers. */
  maxHeaderBytes?: number;
  /** Bound on the body; more is an HttpProtocolError (code BODY_TOO_LARGE), never an out-of-memory crash. */
  maxBodyBytes?: number;
  onHead(head: ResponseHead): void;
  /** A piece of the body; valid only during the call unless copied (it may view the parser's buffer). */
  onBody(bytes: Uint8Array): void;
  onComplete(trailers: HttpHeaders): void;
}

type State = "status" | "headers" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers" | "close" | "done";

const CHUNK_LINE_LIMIT = 1024;

/**
 * An HTTP/1.1 response parser that is fed bytes as they arrive, split anywhere. It keeps only an unfinished line
 * in memory and hands body bytes on as they come; every bound is checked before memory grows.
 */
export class ResponseParser {
  readonly #options: ResponseParserOptions;
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;
  #state: State = "status";
  #pending: Uint8Array = new Uint8Array(0);
  #headBytes = 0;
  #head: ResponseHead | undefined;
  #headers = new HttpHeaders();
  #trailers = new HttpHeaders();
  #remaining = 0;
  #bodyBytes = 0;
  #framing: Framing = "none";
  #reusable = false;
  #failed: HttpProtocolError | undefined;

  constructor(options: ResponseParserOptions) {
    this.#options = options;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
    this.#maxBodyBytes = options.maxBodyBytes ?? Infinity;
  }

  get done(): boolean {
    return this.#state === "done";
  }
  get framing(): Framing {
    return this.#framing;
  }
  /** Whether any byte of a response has arrived. */
  get started(): boolean {
    return this.#state !== "status" || this.#pending.length > 0 || this.#headBytes > 0;
  }
  /** After completion: whether the connection may carry another request. */
  get reusable(): boolean {
    return this.#state === "done" && this.#reusable && this.#pending.length === 0;
  }

  /** Feeds bytes; throws HttpProtocolError on a malformed or oversized response (and stays failed). */
  push(bytes: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    if (bytes.length === 0) return;
    if (this.#state === "done") {
      // Bytes after a complete response: the connection is out of step and must not be reused.
      this.#reusable = false;
      return;
    }
    try {
      this.#pending = this.#pending.length === 0 ? bytes : concat(this.#pending, bytes);
      this.#run();
    } catch (error) {
      this.#failed =
        error instanceof HttpProtocolError
          ? error
          : new HttpProtocolError("HTTP_PARSE", `could not parse the HTTP response: ${String(error)}`, { cause: error });
      throw this.#failed;
    }
  }

  /** The connection closed. Completes a close-delimited body; anything else unfinished is an HttpProtocolError. */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (this.#state === "done") return;
    if (this.#state === "close") {
      this.#state = "done";
      this.#options.onComplete(this.#trailers);
      return;
    }
    const where =
      this.#state === "status" || this.#state === "headers"
        ? this.started
          ? "in the middle of the response headers"
          : "before sending any response"
        : this.#state === "length"
          ? `with ${this.#remaining} of ${this.#bodyBytes + this.#remaining} body bytes still missing`
          : "in the middle of a chunked body (a chunk or the final 0-size chunk is missing)";
    this.#failed = new HttpProtocolError("TRUNCATED", `the server closed the connection ${where}`);
    throw this.#failed;
  }

  #run(): void {
    for (;;) {
      switch (this.#state) {
        case "status":
        case "headers":
        case "trailers": {
          const line = this.#takeLine(this.#state === "trailers" ? "trailers" : "headers");
          if (line === undefined) return;
          if (this.#state === "status") this.#statusLine(line);
          else if (this.#state === "headers") this.#headerLine(line);
          else this.#trailerLine(line);
          break;
        }
        case "length": {
          if (this.#pending.length === 0) return;
          const take = Math.min(this.#remaining, this.#pending.length);
          this.#deliver(this.#pending.subarray(0, take));
          this.#pending = this.#pending.subarray(take);
          this.#remaining -= take;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case "chunk-size": {
          const line = this.#takeLine("chunk");
          if (line === undefined) return;
          this.#chunkSize(line);
          break;
        }
        case "chunk-data": {
          if (this.#pending.length === 0) return;
          const take = Math.min(this.#remaining, this.#pending.length);
          this.#deliver(this.#pending.subarray(0, take));
          this.#pending = this.#pending.subarray(take);
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = "chunk-end";
          break;
        }
        case "chunk-end": {
          const line = this.#takeLine("chunk");
          if (line === undefined) return;
          if (line !== "") throw new HttpProtocolError("BAD_CHUNK", `a chunk is longer than its size line said (extra ${preview(line, 20)})`);
          this.#state = "chunk-size";
          break;
        }
        case "close": {
          if (this.#pending.length === 0) return;
          const bytes = this.#pending;
          this.#pending = new Uint8Array(0);
          this.#deliver(bytes);
          break;
        }
        case "done":
          return;
      }
    }
  }

  /** Takes one line (LF or CRLF ended) as Latin-1 text, or undefined when it has not all arrived. */
  #takeLine(kind: "headers" | "trailers" | "chunk"): string | undefined {
    const lf = this.#pending.indexOf(10);
    const limit = kind === "chunk" ? CHUNK_LINE_LIMIT : this.#maxHeaderBytes - this.#headBytes;
    if (lf < 0) {
      if (this.#pending.length > limit) throw this.#tooLong(kind);
      return undefined;
    }
    if (lf + 1 > limit) throw this.#tooLong(kind);
    if (kind !== "chunk") this.#headBytes += lf + 1;
    const end = lf > 0 && this.#pending[lf - 1] === 13 ? lf - 1 : lf;
    let line = "";
    for (let i = 0; i < end; i++) line += String.fromCharCode(this.#pending[i]!);
    this.#pending = this.#pending.subarray(lf + 1);
    return line;
  }

  #tooLong(kind: "headers" | "trailers" | "chunk"): HttpProtocolError {
    if (kind === "chunk") {
      return new HttpProtocolError("BAD_CHUNK", `a chunk size line is longer than ${CHUNK_LINE_LIMIT} bytes`);
    }
    return new HttpProtocolError(
      "HEADER_TOO_LARGE",
      `the response ${kind} exceed ${this.#maxHeaderBytes} bytes; raise maxHeaderBytes if this server is trusted`,
    );
  }

  #statusLine(line: string): void {
    const match = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(line);
    if (!match) {
      throw new HttpProtocolError("BAD_STATUS_LINE", `expected an HTTP/1.x status line, got ${preview(line)}: is this an HTTP server on that port?`);
    }
    this.#head = { version: `1.${match[1]}`, status: Number(match[2]), statusText: match[3] ?? "", headers: this.#headers };
    if (this.#head.status < 100) throw new HttpProtocolError("BAD_STATUS_LINE", `status ${match[2]} is not a valid HTTP status`);
    this.#state = "headers";
  }

  #headerLine(line: string): void {
    if (line === "") {
      this.#endOfHead();
      return;
    }
    this.#headers.append(...parseField(line, "header"));
  }

  #trailerLine(line: string): void {
    if (line === "") {
      this.#complete();
      return;
    }
    this.#trailers.append(...parseField(line, "trailer"));
  }

  #endOfHead(): void {
    const head = this.#head!;
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) throw new HttpProtocolError("UNEXPECTED_UPGRADE", "the server switched protocols (101), which this client never asks for");
      // An interim answer (100 Continue, 103 Early Hints): the real one follows.
      this.#headers = new HttpHeaders();
      this.#head = undefined;
      this.#state = "status";
      return;
    }
    const headers = this.#headers;
    const keepAlive =
      head.version === "1.1" ? !headers.hasToken("connection", "close") : headers.hasToken("connection", "keep-alive");
    this.#reusable = keepAlive;
    const transferEncoding = headers.get("transfer-encoding");
    const contentLength = headers.get("content-length");
    if (this.#options.method.toUpperCase() === "HEAD" || head.status === 204 || head.status === 304) {
      this.#framing = "none";
    } else if (transferEncoding !== undefined) {
      const codings = transferEncoding.split(",").map((part) => part.trim().toLowerCase());
      this.#framing = codings[codings.length - 1] === "chunked" ? "chunked" : "close";
      // A response with both is a smuggling risk; read it by Transfer-Encoding and then drop the connection.
      if (contentLength !== undefined) this.#reusable = false;
    } else if (contentLength !== undefined) {
      const values = contentLength.split(",").map((part) => part.trim());
      if (!values.every((value) => /^\d{1,15}$/.test(value)) || values.some((value) => value !== values[0])) {
        throw new HttpProtocolError("BAD_CONTENT_LENGTH", `Content-Length ${preview(contentLength, 40)} is not one non-negative integer`);
      }
      this.#framing = "length";
      this.#remaining = Number(values[0]);
      if (this.#remaining > this.#maxBodyBytes) throw this.#bodyTooLarge(this.#remaining);
    } else {
      this.#framing = "close";
    }
    if (this.#framing === "close") this.#reusable = false;
    this.#options.onHead(head);
    if (this.#framing === "none" || (this.#framing === "length" && this.#remaining === 0)) this.#complete();
    else this.#state = this.#framing === "length" ? "length" : this.#framing === "chunked" ? "chunk-size" : "close";
  }

  #chunkSize(line: string): void {
    const match = /^([0-9A-Fa-f]+)[ \t]*(?:;.*)?$/.exec(line);
    if (!match) throw new HttpProtocolError("BAD_CHUNK", `expected a hexadecimal chunk size, got ${preview(line, 30)}`);
    const digits = match[1]!.replace(/^0+(?=.)/, "");
    if (digits.length > 12) throw this.#bodyTooLarge(Infinity);
    const size = parseInt(digits, 16);
    if (size === 0) {
      this.#state = "trailers";
      this.#headBytes = 0;
      return;
    }
    if (this.#bodyBytes + size > this.#maxBodyBytes) throw this.#bodyTooLarge(this.#bodyBytes + size);
    this.#remaining = size;
    this.#state = "chunk-data";
  }

  #deliver(bytes: Uint8Array): void {
    this.#bodyBytes += bytes.length;
    if (this.#bodyBytes > this.#maxBodyBytes) throw this.#bodyTooLarge(this.#bodyBytes);
    this.#options.onBody(bytes);
  }

  #bodyTooLarge(size: number): HttpProtocolError {
    const what = Number.isFinite(size) ? `${size} bytes` : "an enormous size";
    return new HttpProtocolError(
      "BODY_TOO_LARGE",
      `the response body is ${what}, more than the ${this.#maxBodyBytes} allowed; ask for less (a shallow read, a query with a limit) or raise maxBodyBytes`,
    );
  }

  #complete(): void {
    this.#state = "done";
    this.#options.onComplete(this.#trailers);
  }
}

function parseField(line: string, what: string): [string, string] {
  if (line.startsWith(" ") || line.startsWith("\t")) {
    throw new HttpProtocolError("BAD_HEADER", `the response uses obsolete ${what} line folding (${preview(line, 30)})`);
  }
  const colon = line.indexOf(":");
  const name = colon > 0 ? line.slice(0, colon) : "";
  if (!isHttpToken(name)) throw new HttpProtocolError("BAD_HEADER", `expected "Name: value" in the ${what}s, got ${preview(line, 40)}`);
  const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
    throw new HttpProtocolError("BAD_HEADER", `${what} ${name} contains a control character`);
  }
  return [name, value];
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
