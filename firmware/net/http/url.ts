import { UsageError } from "../../core/errors.ts";
import { utf8Encode } from "../../core/utf8.ts";

/** An http(s) URL split into what a request needs. Parsed by hand: the device has no `URL` class. */
export interface ParsedUrl {
  scheme: "http" | "https";
  /** Host name or IP literal, without brackets. */
  host: string;
  port: number;
  /** Path and query as sent on the request line, e.g. `/a/b.json?x=1`; at least `/`. */
  target: string;
  /** `scheme://host:port`, the key for connection reuse. */
  origin: string;
  /** Host header value: host, with `:port` when not the scheme's default. */
  hostHeader: string;
}

const URL_PATTERN = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;

export function parseUrl(url: string): ParsedUrl {
  const match = URL_PATTERN.exec(url.trim());
  if (!match) throw new UsageError("BAD_URL", `"${url}" is not an absolute URL; write it as http://host[:port]/path or https://…`);
  const scheme = match[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "https") {
    throw new UsageError("BAD_URL", `"${url}" uses ${scheme}:, but only http: and https: are supported`);
  }
  const authority = match[2]!;
  if (authority.includes("@")) {
    throw new UsageError("BAD_URL", `"${url}" carries credentials in the URL; pass them as a header or query parameter instead`);
  }
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) throw new UsageError("BAD_URL", `"${url}" has an unclosed IPv6 bracket`);
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) throw new UsageError("BAD_URL", `"${url}" has junk after the IPv6 address`);
    portText = rest ? rest.slice(1) : undefined;
  } else {
    const colon = authority.lastIndexOf(":");
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  if (host === "") throw new UsageError("BAD_URL", `"${url}" has no host`);
  const defaultPort = scheme === "https" ? 443 : 80;
  let port = defaultPort;
  if (portText !== undefined && portText !== "") {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new UsageError("BAD_URL", `"${url}" has port "${portText}"; a port is a number from 1 to 65535`);
    }
    port = Number(portText);
  }
  host = host.toLowerCase();
  const hostForHeader = host.includes(":") ? `[${host}]` : host;
  const hostHeader = port === defaultPort ? hostForHeader : `${hostForHeader}:${port}`;
  const path = match[3] || "/";
  return {
    scheme,
    host,
    port,
    target: path + (match[4] ?? ""),
    origin: `${scheme}://${hostForHeader}:${port}`,
    hostHeader,
  };
}

/** Resolves a redirect's Location against the URL that was asked for (absolute, scheme-relative or path-absolute). */
export function resolveLocation(base: string, location: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(location)) return location;
  const parsed = parseUrl(base);
  const authority = `${parsed.scheme}://${parsed.hostHeader}`;
  if (location.startsWith("//")) return `${parsed.scheme}:${location}`;
  if (location.startsWith("/")) return authority + location;
  const path = parsed.target.replace(/[?#].*$/, "");
  return authority + path.slice(0, path.lastIndexOf("/") + 1) + location;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = "0123456789ABCDEF";

/** Percent-encodes everything but RFC 3986's unreserved characters, over UTF-8 (like encodeURIComponent, stricter). */
export function percentEncode(text: string, keep = ""): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (UNRESERVED.test(ch) || keep.includes(ch)) {
      out += ch;
      continue;
    }
    let end = i + 1;
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && end < text.length) end++;
    for (const byte of utf8Encode(text.slice(i, end))) out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
    i = end - 1;
  }
  return out;
}

/** Encodes a path segment by segment, keeping the `/` separators. */
export function encodePath(path: string): string {
  return path
    .split("/")
    .map((segment) => percentEncode(segment))
    .join("/");
}

/** `a=1&b=x%20y` from pairs, skipping undefined values; order kept as given. */
export function encodeQuery(params: Record<string, string | number | boolean | undefined>): string {
  const parts: string[] = [];
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value === undefined) continue;
    parts.push(`${percentEncode(key)}=${percentEncode(String(value))}`);
  }
  return parts.join("&");
}

/** Appends encoded query parameters to a URL that may already have a query. */
export function withQuery(url: string, params: Record<string, string | number | boolean | undefined>): string {
  const query = encodeQuery(params);
  if (!query) return url;
  return url + (url.includes("?") ? "&" : "?") + query;
}
