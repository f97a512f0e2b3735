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

const SLASH = 0x2f;
const QUESTION = 0x3f;
const HASH = 0x23;

/**
 * Parses an absolute http(s) URL in one left-to-right pass (no regular expression that could backtrack: a redirect's
 * Location comes from the network). Control characters are refused anywhere, since they would end up on the
 * request line.
 */
export function parseUrl(url: string): ParsedUrl {
  const text = url.trim();
  const schemeEnd = schemeLength(text);
  if (schemeEnd < 0) throw new UsageError("BAD_URL", `${shown(url)} is not an absolute URL; write it as http://host[:port]/path or https://…`);
  const scheme = text.slice(0, schemeEnd).toLowerCase();
  if (scheme !== "http" && scheme !== "https") {
    throw new UsageError("BAD_URL", `${shown(url)} uses ${scheme}:, but only http: and https: are supported`);
  }
  // The authority ends at the first "/", "?" or "#"; the path at the first "?" or "#"; the query at the first "#".
  const start = schemeEnd + 3;
  const n = text.length;
  let authorityEnd = n;
  let pathEnd = n;
  let hashAt = n;
  for (let i = start; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      const hex = c.toString(16).toUpperCase().padStart(2, "0");
      throw new UsageError("BAD_URL", `${shown(url)} has a control character (U+00${hex}) at position ${i}; percent-encode it as %${hex} or remove it`);
    }
    if (hashAt < n) continue;
    if (c === HASH) {
      hashAt = i;
      if (authorityEnd === n) authorityEnd = i;
      if (pathEnd === n) pathEnd = i;
    } else if (c === QUESTION) {
      if (authorityEnd === n) authorityEnd = i;
      if (pathEnd === n) pathEnd = i;
    } else if (c === SLASH && authorityEnd === n) {
      authorityEnd = i;
    }
  }
  const authority = text.slice(start, authorityEnd);
  if (authority.includes("@")) {
    throw new UsageError("BAD_URL", `${shown(url)} carries credentials in the URL; pass them as a header or query parameter instead`);
  }
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) throw new UsageError("BAD_URL", `${shown(url)} has an unclosed IPv6 bracket`);
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) throw new UsageError("BAD_URL", `${shown(url)} has junk after the IPv6 address`);
    portText = rest ? rest.slice(1) : undefined;
  } else {
    const colon = authority.lastIndexOf(":");
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  if (host === "") throw new UsageError("BAD_URL", `${shown(url)} has no host`);
  const defaultPort = scheme === "https" ? 443 : 80;
  let port = defaultPort;
  if (portText !== undefined && portText !== "") {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new UsageError("BAD_URL", `${shown(url)} has port "${portText.length > 12 ? `${portText.slice(0, 12)}…` : portText}"; a port is a number from 1 to 65535`);
    }
    port = Number(portText);
  }
  host = host.toLowerCase();
  const hostForHeader = host.includes(":") ? `[${host}]` : host;
  const hostHeader = port === defaultPort ? hostForHeader : `${hostForHeader}:${port}`;
  const path = text.slice(authorityEnd, pathEnd) || "/";
  return {
    scheme,
    host,
    port,
    target: path + text.slice(pathEnd, hashAt),
    origin: `${scheme}://${hostForHeader}:${port}`,
    hostHeader,
  };
}

/** Resolves a redirect's Location against the URL that was asked for (absolute, scheme-relative or path-absolute). */
export function resolveLocation(base: string, location: string): string {
  if (schemeLength(location) >= 0) return location;
  const parsed = parseUrl(base);
  const authority = `${parsed.scheme}://${parsed.hostHeader}`;
  if (location.startsWith("//")) return `${parsed.scheme}:${location}`;
  if (location.startsWith("/")) return authority + location;
  const query = parsed.target.indexOf("?");
  const path = query < 0 ? parsed.target : parsed.target.slice(0, query);
  return authority + path.slice(0, path.lastIndexOf("/") + 1) + location;
}

/** The length of `text`'s leading scheme when `scheme://` starts it (RFC 3986: ALPHA *( ALPHA / DIGIT / + / - / . )), else -1. */
function schemeLength(text: string): number {
  if (!isAlpha(text.charCodeAt(0))) return -1;
  let i = 1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!(isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) break;
  }
  return text.startsWith("://", i) ? i : -1;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** The URL quoted for an error message, cut short when long (it may have come from the network). */
function shown(url: string): string {
  return url.length <= 120 ? `"${url}"` : `"${url.slice(0, 100)}…" (${url.length} characters)`;
}

const HEX = "0123456789ABCDEF";

/** RFC 3986's unreserved characters: letters, digits, - . _ ~ */
function isUnreserved(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e;
}

/** Percent-encodes everything but RFC 3986's unreserved characters, over UTF-8 (like encodeURIComponent, stricter). */
export function percentEncode(text: string, keep = ""): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (isUnreserved(text.charCodeAt(i)) || keep.includes(ch)) {
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
