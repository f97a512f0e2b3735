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
});
