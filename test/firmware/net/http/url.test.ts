import { readFileSync } from "node:fs";
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../../firmware/core/errors.ts";
import { encodeQuery, parseUrl, percentEncode, resolveLocation, withQuery } from "../../../../firmware/net/http/url.ts";

describe("url helpers", () => {
  it("parses what requests need", () => {
    expect(parseUrl("https://Demo-Default-RTDB.firebaseio.com/a/b.json?x=1#frag")).toEqual({
      scheme: "https",
      host: "demo-default-rtdb.firebaseio.com",
      port: 443,
      target: "/a/b.json?x=1",
      origin: "https://demo-default-rtdb.firebaseio.com:443",
      hostHeader: "demo-default-rtdb.firebaseio.com",
    });
    expect(parseUrl("http://127.0.0.1:9000?ns=demo")).toMatchObject({ port: 9000, target: "/?ns=demo", hostHeader: "127.0.0.1:9000" });
    expect(parseUrl("http://[::1]:8080/x")).toMatchObject({ host: "::1", hostHeader: "[::1]:8080" });
  });

  it("rejects what it cannot send, saying why", () => {
    for (const bad of ["ftp://h/", "h/x", "http://:80/", "http://h:99999/", "http://u:p@h/"]) {
      expect(() => parseUrl(bad)).toThrow(UsageError);
    }
    expect(() => parseUrl("ws://h/")).toThrow(/only http: and https:/);
  });

  it("resolves redirect locations", () => {
    expect(resolveLocation("https://a.com/x/y.json?q", "https://b.com/z")).toBe("https://b.com/z");
    expect(resolveLocation("https://a.com/x/y.json?q", "/z")).toBe("https://a.com/z");
    expect(resolveLocation("http://a.com:81/x/y", "z")).toBe("http://a.com:81/x/z");
    expect(resolveLocation("https://a.com/x", "//c.com/w")).toBe("https://c.com/w");
  });

  it("percent-encodes over UTF-8 like encodeURIComponent, plus the characters it leaves", () => {
    for (const text of ["a b&c=d/é", "🦖", '"ab\uf8ff"', "!'()*"]) {
      const expected = encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
      expect(percentEncode(text)).toBe(expected);
    }
    expect(encodeQuery({ orderBy: '"$key"', limitToFirst: 2, skip: undefined })).toBe("orderBy=%22%24key%22&limitToFirst=2");
    expect(withQuery("http://h/?ns=x", { a: 1 })).toBe("http://h/?ns=x&a=1");
  });

  it("refuses a control character anywhere, since it would reach the request line", () => {
    expect(() => parseUrl("http://h/a\r\nX-Injected: 1")).toThrow(/control character \(U\+000D\) at position 10; percent-encode it as %0D/);
    expect(() => parseUrl("http://h/?q=\u0000")).toThrow(UsageError);
  });
});

/**
 * Character reads while `run` runs, counted on String.prototype.charCodeAt: the parser inspects input only through
 * it (and through native linear scans such as slice and indexOf), so the count is its step count.
 */
function reads(run: () => unknown): { reads: number; error: unknown } {
  const original = String.prototype.charCodeAt;
  let count = 0;
  String.prototype.charCodeAt = function (this: string, index: number) {
    count++;
    return original.call(this, index);
  };
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  } finally {
    String.prototype.charCodeAt = original;
  }
  return { reads: count, error };
}

describe("url parsing of outside bytes (a redirect's Location)", () => {
  it("uses no regular expression with an unbounded quantifier, the way a JavaScript regex backtracks without bound", () => {
    const file = new URL("../../../../firmware/net/http/url.ts", import.meta.url);
    const source = ts.createSourceFile("url.ts", readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
    const patterns: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isRegularExpressionLiteral(node)) patterns.push(node.text);
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "RegExp") patterns.push(node.getText(source));
      ts.forEachChild(node, visit);
    };
    visit(source);
    expect(patterns.length).toBeGreaterThan(0); // the walk sees the file's (bounded) patterns
    for (const pattern of patterns) expect(pattern, pattern).not.toMatch(/[*+]|\{\d*,\}|RegExp/);
  });

  it("takes the reported quadratic input in one pass and refuses it with its own error", () => {
    const input = "http://" + "a".repeat(16_000) + "#\nx";
    const { reads: steps, error } = reads(() => parseUrl(input));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^"http:\/\/a{93}…" \(16010 characters\) has a control character \(U\+000A\)/);
    expect(steps).toBeLessThanOrEqual(input.length + 2);
    for (const long of ["http://" + "a".repeat(16_000) + "#x", "http://h/" + "?".repeat(16_000), "https://" + "[".repeat(16_000), "h".repeat(16_000) + ":"]) {
      expect(reads(() => parseUrl(long)).reads).toBeLessThanOrEqual(long.length + 2);
      expect(reads(() => resolveLocation("http://h/?" + "?".repeat(16_000), long)).reads).toBeLessThanOrEqual(2 * long.length + 16_020);
    }
  });

  it("reads no more than n + 2 characters of an n-character input and throws only UsageError, whatever the bytes", () => {
    const piece = fc.constantFrom("a", "H", "1", ":", "/", "//", "?", "#", "@", "[", "]", "%", ".", " ", "\n", "\r", "\u0000", "é", "http", "https://", "ftp://");
    const text = fc.oneof(fc.string(), fc.array(piece, { maxLength: 60 }).map((parts) => parts.join("")));
    fc.assert(
      fc.property(fc.constantFrom("", "http://", "HTTPS://"), text, (prefix, rest) => {
        const input = prefix + rest;
        const { reads: steps, error } = reads(() => parseUrl(input));
        if (error !== undefined) expect(error).toBeInstanceOf(UsageError);
        expect(steps).toBeLessThanOrEqual(input.length + 2);
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with the WHATWG URL parser on host, port and request target for ordinary URLs", () => {
    const label = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,8}$/).filter((l) => !/^xn-/i.test(l));
    const host = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join("."));
    const segment = fc.stringMatching(/^[A-Za-z0-9\-_~!$&'()*+,;=:@]{1,8}$/).filter((s) => s !== "." && s !== "..");
    const path = fc.array(segment, { maxLength: 4 }).map((segments) => segments.map((s) => `/${s}`).join(""));
    const query = fc.option(fc.stringMatching(/^[A-Za-z0-9\-_~!$&()*+,;=:@/?]{1,12}$/), { nil: undefined });
    const fragment = fc.option(fc.stringMatching(/^[A-Za-z0-9#?/]{0,8}$/), { nil: undefined });
    fc.assert(
      fc.property(fc.constantFrom("http", "https", "HTTP", "Https"), host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), path, query, fragment, (scheme, h, port, p, q, f) => {
        const url = `${scheme}://${h}${port !== undefined ? `:${port}` : ""}${p}${q !== undefined ? `?${q}` : ""}${f !== undefined ? `#${f}` : ""}`;
        const ours = parseUrl(url);
        const theirs = new URL(url);
        expect(ours.scheme + ":").toBe(theirs.protocol);
        expect(ours.host).toBe(theirs.hostname);
        expect(ours.port).toBe(Number(theirs.port || (ours.scheme === "https" ? 443 : 80)));
        expect(ours.target).toBe(theirs.pathname + theirs.search);
        expect(ours.hostHeader).toBe(theirs.host);
      }),
      { numRuns: 2000 },
    );
  });
});
