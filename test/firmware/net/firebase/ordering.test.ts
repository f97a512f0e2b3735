import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../../firmware/core/errors.ts";
import { compareKeys, compareValues, keyAsInt, type JsonValue, sortChildren } from "../../../../firmware/net/firebase/ordering.ts";
import { query } from "../../../../firmware/net/firebase/query.ts";

describe("Firebase ordering", () => {
  it.each([
    ["0", true, 0],
    ["-1", true, -1],
    ["01", true, 1],
    ["-0", true, -0],
    ["0000000000001", true, 1],
    ["2147483647", true, 2147483647],
    ["-2147483648", true, -2147483648],
    ["2147483648", false, null],
    ["12345678901", false, null],
    ["1.5", false, null],
    ["+1", false, null],
    [" 1", false, null],
    ["1e3", false, null],
    ["", false, null],
  ])("key %j is an int32 key: %s", (key, isInt, value) => {
    expect(keyAsInt(key) !== null).toBe(isInt);
    if (isInt) expect(keyAsInt(key)).toBe(value);
  });

  it("orders keys: int32 keys numerically first (shorter wins a tie), then strings by UTF-16 code unit", () => {
    const keys = ["b", "2147483648", "10", "-1", "a", "01", "1", "2", "A", "\uffff", "😀", "-2147483648", "001", "_"];
    const sorted = [...keys].sort(compareKeys);
    expect(sorted).toEqual(["-2147483648", "-1", "1", "01", "001", "2", "10", "2147483648", "A", "_", "a", "b", "😀", "\uffff"]);
  });

  it("orders values: null < false < true < numbers < strings < objects", () => {
    const values: JsonValue[] = [{ a: 1 }, "b", "a", "", 10, -3, 2.5, true, false, null, "B"];
    expect([...values].sort(compareValues)).toEqual([null, false, true, -3, 2.5, 10, "", "B", "a", "b", { a: 1 }]);
  });

  it("sorts by child with missing children first and ties broken by key", () => {
    const data = {
      rex: { height: 4 },
      zed: { height: 4 },
      amy: {},
      "5": { height: "tall" },
      ann: { height: null },
      bob: { height: { nested: true } },
      cal: { height: false },
      "-1": { height: 4 },
    } as JsonValue;
    expect(sortChildren(data, { kind: "child", path: "height" }).map(([k]) => k)).toEqual(["amy", "ann", "cal", "-1", "rex", "zed", "5", "bob"]);
  });

  it("reads a JSON array answer as index keys and sorts by value and priority", () => {
    expect(sortChildren([3, null, 1, 2] as JsonValue, { kind: "value" })).toEqual([["2", 1], ["3", 2], ["0", 3]]);
    const withPriority = { a: { ".priority": "x", v: 1 }, b: { ".priority": 5, v: 2 }, c: { v: 3 } } as JsonValue;
    expect(sortChildren(withPriority, { kind: "priority" }).map(([k]) => k)).toEqual(["c", "b", "a"]);
  });

  it("is a total order consistent with itself (property)", () => {
    const key = fc.oneof(fc.integer({ min: -3_000_000_000, max: 3_000_000_000 }).map(String), fc.string({ minLength: 1, maxLength: 4 }), fc.constantFrom("01", "-0", "001", "-01"));
    fc.assert(
      fc.property(key, key, key, (a, b, c) => {
        expect(Math.sign(compareKeys(a, b))).toBe(-Math.sign(compareKeys(b, a)) || 0);
        if (compareKeys(a, b) <= 0 && compareKeys(b, c) <= 0) expect(compareKeys(a, c)).toBeLessThanOrEqual(0);
        expect(compareKeys(a, b) === 0).toBe(a === b);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("Query", () => {
  const dinos = {
    bruhathkayosaurus: { height: 25, name: "bruhathkayosaurus" },
    lambeosaurus: { height: 2.1, name: "lambeosaurus" },
    linhenykus: { height: 0.6, name: "linhenykus" },
    pterodactyl: { height: 0.6, name: "pterodactyl" },
    stegosaurus: { height: 4, name: "stegosaurus" },
    triceratops: { height: 3, name: "triceratops" },
  } as Record<string, JsonValue>;
  const entries = Object.entries(dinos) as Array<[string, JsonValue]>;

  it("builds REST parameters the way the SDK does", () => {
    expect(query().orderByChild("height").startAt(3).limitToFirst(2).toParams()).toEqual({ orderBy: '"height"', startAt: "3", limitToFirst: 2 });
    expect(query().orderByKey().startAfter("b", undefined).endBefore("d").toParams()).toEqual({ orderBy: '"$key"', startAfter: '"b"', endBefore: '"d"' });
    expect(query().orderByValue().equalTo(true).toParams()).toEqual({ orderBy: '"$value"', equalTo: "true" });
    expect(query().orderByChild("h").startAt(1, "k").toParams()).toEqual({ orderBy: '"h"', startAt: '1,"k"' });
    expect(query().toParams()).toEqual({});
  });

  it("applies ranges and limits locally in Firebase's order", () => {
    const keys = (q: ReturnType<typeof query>) => q.apply(entries).map(([k]) => k);
    expect(keys(query().orderByChild("height").startAt(3))).toEqual(["triceratops", "stegosaurus", "bruhathkayosaurus"]);
    expect(keys(query().orderByChild("height").limitToLast(2))).toEqual(["stegosaurus", "bruhathkayosaurus"]);
    expect(keys(query().orderByChild("height").equalTo(0.6))).toEqual(["linhenykus", "pterodactyl"]);
    expect(keys(query().orderByChild("height").startAfter(0.6).endBefore(4))).toEqual(["lambeosaurus", "triceratops"]);
    expect(keys(query().orderByChild("height").startAt(0.6, "m"))).toEqual(["pterodactyl", "lambeosaurus", "triceratops", "stegosaurus", "bruhathkayosaurus"]);
    expect(keys(query().orderByKey().startAt("l").endAt("l\uf8ff"))).toEqual(["lambeosaurus", "linhenykus"]);
    expect(keys(query().orderByChild("name").startAt("li").endAt("li\uf8ff"))).toEqual(["linhenykus"]);
    expect(keys(query().orderByChild("name").startsWith("l"))).toEqual(["lambeosaurus", "linhenykus"]);
    expect(query().orderByValue().startsWith("ab").toParams()).toEqual({ orderBy: '"$value"', startAt: '"ab"', endAt: '"ab\uf8ff"' });
  });

  it("refuses queries the server would reject, with the fix", () => {
    expect(() => query().startAt(1).toParams()).toThrow(/needs an order/);
    expect(() => query().orderByKey().orderByValue()).toThrow(UsageError);
    expect(() => query().orderByKey().startAt(3)).toThrow(/must be a string key/);
    expect(() => query().orderByValue().limitToFirst(0)).toThrow(/positive whole number/);
    expect(() => query().orderByChild("$bad")).toThrow(/child path/);
    expect(() => query().orderByValue().startAt(1).equalTo(2)).toThrow(/equalTo cannot be combined/);
  });
});
