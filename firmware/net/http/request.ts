import { UsageError } from "../../core/errors.ts";
import { utf8Encode } from "../../core/utf8.ts";
import { isHttpToken } from "./token.ts";
import type { ParsedUrl } from "./url.ts";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

/** Serialises a request: request line, Host, the caller's headers, Content-Length, then the body. */
export function buildRequest(
  method: string,
  url: ParsedUrl,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
): Uint8Array {
  if (!isHttpToken(method)) throw new UsageError("BAD_METHOD", `"${method}" is not an HTTP method`);
  let head = `${method} ${url.target} HTTP/1.1\r\nHost: ${url.hostHeader}\r\n`;
  for (const name of Object.keys(headers)) {
    const value = headers[name]!;
    const lower = name.toLowerCase();
    if (lower === "host" || lower === "content-length" || lower === "transfer-encoding") continue;
    if (!isHttpToken(name)) throw new UsageError("BAD_HEADER", `"${name}" is not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new UsageError("BAD_HEADER", `header ${name} contains a line break; remove it`);
    head += `${name}: ${value}\r\n`;
  }
  if (body !== undefined || METHODS_WITH_BODY.has(method)) head += `Content-Length: ${body?.length ?? 0}\r\n`;
  head += "\r\n";
  if (/[^\x20-\x7e\r\n\t]/.test(head) || url.target.includes(" ")) {
    throw new UsageError("BAD_REQUEST", "the request line or a header has characters outside printable ASCII; percent-encode the URL");
  }
  const headBytes = utf8Encode(head);
  if (!body || body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  return out;
}
