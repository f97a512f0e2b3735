import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HttpProtocolError } from "../../../../firmware/net/http/errors.ts";
import { ResponseParser } from "../../../../firmware/net/http/response-parser.ts";

interface Parsed {
  status: number;
  headers: Array<[string, string]>;
  body: string;
  trailers: Array<[string, string]>;
  complete: boolean;
}

function parse(pieces: Array<string | Uint8Array>, options: { method?: string; close?: boolean; maxBodyBytes?: number; maxHeaderBytes?: number } = {}): Parsed {
  const result: Parsed = { status: 0, headers: [], body: "", trailers: [], complete: false };
  const body: number[] = [];
  const parser = new ResponseParser({
    method: options.method ?? "GET",
    maxBodyBytes: options.maxBodyBytes,
    maxHeaderBytes: options.maxHeaderBytes,
    onHead: (head) => {
      result.status = head.status;
      result.headers = head.headers.entries();
    },
    onBody: (bytes) => body.push(...bytes),
    onComplete: (trailers) => {
      result.trailers = trailers.entries();
      result.complete = true;
    },
  });
  for (const piece of pieces) parser.push(typeof piece === "string" ? new Uint8Array(Buffer.from(piece, "latin1")) : piece);
  if (options.close) parser.end();
  result.body = Buffer.from(body).toString("latin1");
  return result;
}

function splitAt(text: string, cuts: number[]): string[] {
  const sorted = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const cut of sorted) {
    out.push(text.slice(last, cut));
    last = cut;
  }
  out.push(text.slice(last));
  return out;
}

const CHUNKED =
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n" +
  "5;name=value\r\nhello\r\n" +
  "7\r\n, world\r\n" +
  "0\r\nX-Checksum: abc\r\n\r\n";

describe("ResponseParser", () => {
  it("reads a Content-Length body and headers case-insensitively", () => {
    const r = parse(["HTTP/1.1 201 Created\r\ncontent-LENGTH: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello"]);
    expect(r).toMatchObject({ status: 201, body: "hello", complete: true });
    expect(r.headers).toContainEqual(["x-a", "2"]);
  });

  it("reads a chunked body with extensions and trailers, split at every byte", () => {
    for (let cut = 0; cut <= CHUNKED.length; cut++) {
      const r = parse(splitAt(CHUNKED, [cut]));
      expect(r.body, `cut at ${cut}`).toBe("hello, world");
      expect(r.trailers).toEqual([["X-Checksum", "abc"]]);
      expect(r.complete).toBe(true);
    }
    const bytes = [...CHUNKED];
    expect(parse(bytes).body).toBe("hello, world");
  });

  it("reads a close-delimited body when the connection ends", () => {
    const r = parse(["HTTP/1.1 200 OK\r\n\r\nall of ", "this"], { close: true });
    expect(r).toMatchObject({ body: "all of this", complete: true });
  });

  it("treats a half-received chunk followed by close as a typed TRUNCATED error", () => {
    const error = catchError(() => parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhalf"], { close: true }));
    expect(error).toBeInstanceOf(HttpProtocolError);
    expect(error).toMatchObject({ code: "TRUNCATED" });
    expect(String(error.message)).toMatch(/chunked body/);
  });

  it("reports a short Content-Length body and a close before any byte", () => {
    expect(catchError(() => parse(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"], { close: true })).message).toMatch(/7 of 10 body bytes/);
    expect(catchError(() => parse([], { close: true })).message).toMatch(/before sending any response/);
  });

  it("has no body for HEAD, 204 and 304, and skips 100 Continue", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"], { method: "HEAD" })).toMatchObject({ complete: true, body: "" });
    expect(parse(["HTTP/1.1 204 No Content\r\n\r\n"])).toMatchObject({ status: 204, complete: true });
    expect(parse(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])).toMatchObject({ status: 200, body: "ok" });
  });

  it("bounds headers and bodies with typed errors", () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(200)}\r\n\r\n`;
    expect(catchError(() => parse([big], { maxHeaderBytes: 100 }))).toMatchObject({ code: "HEADER_TOO_LARGE" });
    expect(catchError(() => parse(["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"], { maxBodyBytes: 100 }))).toMatchObject({ code: "BODY_TOO_LARGE" });
    expect(catchError(() => parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n"], { maxBodyBytes: 100 }))).toMatchObject({ code: "BODY_TOO_LARGE" });
    expect(catchError(() => parse(["HTTP/1.1 200 OK\r\n\r\n", "x".repeat(101)], { maxBodyBytes: 100 }))).toMatchObject({ code: "BODY_TOO_LARGE" });
  });

  it("names what came back when it is not HTTP", () => {
    const error = catchError(() => parse(["SSH-2.0-OpenSSH_9.6\r\n"]));
    expect(error).toMatchObject({ code: "BAD_STATUS_LINE" });
    expect(error.message).toContain("SSH-2.0-OpenSSH_9.6");
  });

  it("rejects conflicting Content-Length values and bad chunk sizes", () => {
    expect(catchError(() => parse(["HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"]))).toMatchObject({ code: "BAD_CONTENT_LENGTH" });
    expect(catchError(() => parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]))).toMatchObject({ code: "BAD_CHUNK" });
    expect(catchError(() => parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n"]))).toMatchObject({ code: "BAD_CHUNK" });
  });

  it("gives the same result for any split of a valid response (property)", () => {
    const responses = [
      CHUNKED,
      "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: keep-alive\r\n\r\n{\"a\":\"é\"}",
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\n<html>Service Unavailable\n\r\n0\r\n\r\n",
    ];
    fc.assert(
      fc.property(fc.constantFrom(...responses), fc.array(fc.nat(200), { maxLength: 12 }), (response, cuts) => {
        const whole = parse([response]);
        const pieces = parse(splitAt(response, cuts));
        expect(pieces).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws anything but HttpProtocolError on random bytes, and always finishes (property)", () => {
    const prefix = fc.constantFrom("", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
    fc.assert(
      fc.property(prefix, fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), fc.boolean(), (start, pieces, close) => {
        try {
          parse([start, ...pieces], { close, maxHeaderBytes: 256, maxBodyBytes: 256 });
        } catch (error) {
          expect(error).toBeInstanceOf(HttpProtocolError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

function catchError(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}
