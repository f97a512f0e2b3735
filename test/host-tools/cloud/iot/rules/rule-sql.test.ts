import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { evaluateRule, type RuleMessage } from "../../../../../host-tools/cloud/iot/rules/evaluate.ts";
import { parseRuleSql, RuleSqlError } from "../../../../../host-tools/cloud/iot/rules/rule-sql.ts";

const message = (payload: unknown, topic = "sensor/Device001"): RuleMessage => ({
  topic,
  payload: Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)),
  clientId: "Device001",
  receivedAt: 1_796_000_000_000,
});
const run = (sql: string, payload: unknown, topic?: string) => evaluateRule(parseRuleSql(sql), message(payload, topic));

describe("AWS IoT SQL: parsing", () => {
  it("reads SELECT lists, FROM filters and WHERE conditions", () => {
    const query = parseRuleSql("SELECT *, topic(2) AS device, state.reported.temp, timestamp() FROM 'sensor/+' WHERE temp > 20 AND NOT (mode = 'off')");
    expect(query.from).toBe("sensor/+");
    expect(query.select.map((item) => item.all ? "*" : item.name)).toEqual(["*", "device", "temp", "timestamp"]);
    expect(query.where).toMatchObject({ kind: "binary", operator: "AND" });
    expect(parseRuleSql("select a from '#'").select[0]).toMatchObject({ name: "a" });
  });

  it.each([
    ["SELECT * WHERE a = 1", "expected FROM at 1:10, found 'WHERE'"],
    ["SELECT * FROM sensor", "expected the topic filter as a 'quoted/topic/+/#' at 1:15, found 'sensor'"],
    ["SELECT * FROM 'a/#/b'", "expected a topic filter (# only as the whole last level) at 1:15"],
    ["SELECT a + 1 FROM 'x'", "expected AS name after this expression (the output needs a field name for it) at 1:8, found 'a'"],
    ["SELECT * FROM 'x' WHERE a >", "expected a value, a field or a function at 1:28, found the end of the rule"],
    ["SELECT * FROM 'x' WHERE a IS 3", "expected NULL or UNDEFINED after IS at 1:30, found '3'"],
    ["SELECT nosuch(a) FROM 'x'", "expected a function esplab's rules know (topic, clientid"],
    ["SELECT * FROM 'sensor/#", "expected the closing ' of the text that starts here at 1:15, found the end of the rule"],
    ["SELECT *\nFROM 'x'\nWHERE a = 1 b", "expected AND, OR or the end of the rule at 3:13, found 'b'"],
    ["SELECT * FROM 'x' WHERE a ~ 1", "expected an operator, a name, a number or a 'string' at 1:27, found '~'"],
  ])("%j is refused: %s", (sql, expected) => {
    expect(() => parseRuleSql(sql)).toThrow(RuleSqlError);
    expect(() => parseRuleSql(sql)).toThrow(expected);
  });

  it("never throws anything but RuleSqlError, on random text and on mutations of valid rules", () => {
    const valid = "SELECT *, topic(2) AS d, a.b[0] AS x, abs(t - 3) AS e FROM 'sensor/+/#' WHERE (t >= 2.5 OR s <> 'q''x') AND b IS NOT UNDEFINED";
    const check = (sql: string) => {
      try {
        const query = parseRuleSql(sql);
        evaluateRule(query, message({ t: 3, s: "q", a: { b: [1] } }));
      } catch (error) {
        if (!(error instanceof RuleSqlError)) throw error;
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: 3000 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length }), fc.integer({ min: 0, max: 8 }), fc.string({ maxLength: 6 }), (at, remove, insert) =>
        check(valid.slice(0, at) + insert + valid.slice(at + remove)),
      ),
      { numRuns: 3000 },
    );
  });

  it("stays linear on long and deep input: 10,000 terms parse; nesting past 64 is an error, not a stack overflow", () => {
    const long = `SELECT * FROM 'x' WHERE ${Array.from({ length: 10_000 }, (_, i) => `a${i} = ${i}`).join(" OR ")}`;
    expect(parseRuleSql(long).where).toBeDefined();
    expect(() => parseRuleSql(`SELECT * FROM 'x' WHERE ${"(".repeat(5000)}1${")".repeat(5000)} = 1`)).toThrow(/nested at most 64 deep/);
    expect(() => parseRuleSql(`SELECT * FROM 'x' WHERE ${"NOT ".repeat(5000)}true`)).toThrow(/nested at most 64 deep/);
    expect(() => parseRuleSql(`SELECT * FROM 'x' WHERE ${"-".repeat(5000)}1 = 1`)).toThrow(/nested at most 64 deep/);
  });
});

// https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-select.html, iot-sql-where.html, iot-sql-data-types.html
describe("AWS IoT SQL: evaluation", () => {
  it("SELECT * passes the payload; fields, nested fields and functions add to it; Undefined is left out", () => {
    expect(run("SELECT * FROM 'sensor/+'", { temp: 22 })).toEqual({ json: { temp: 22 } });
    expect(run("SELECT color AS my_color FROM 'sensor/+'", { color: "red" })).toEqual({ json: { my_color: "red" } });
    expect(run("SELECT state.reported.temp, missing FROM 'sensor/+'", { state: { reported: { temp: 21 } } })).toEqual({ json: { temp: 21 } });
    expect(run("SELECT topic() AS t, topic(2) AS device, topic(9) AS none, clientid() AS c, timestamp() AS ts FROM 'sensor/+'", {})).toEqual({
      json: { t: "sensor/Device001", device: "Device001", c: "Device001", ts: 1_796_000_000_000 },
    });
    expect(run("SELECT a[1] AS second, round(b * 10) / 10 AS b, upper(s) AS s, concat(s, '-', n) AS k FROM '#'", { a: [5, 6], b: 1.26, s: "x", n: 3 })).toEqual({ json: { second: 6, b: 1.3, s: "X", k: "x-3" } });
  });

  it("WHERE passes only on true: comparisons, numeric strings, Undefined, AND/OR/NOT", () => {
    const where = (condition: string, payload: unknown) => run(`SELECT * FROM 'sensor/+' WHERE ${condition}`, payload) !== undefined;
    expect(where("temp > 20", { temp: 22 })).toBe(true);
    expect(where("temp > 20", { temp: 19 })).toBe(false);
    expect(where("temp > 20", {})).toBe(false);
    expect(where("NOT (temp > 20)", {})).toBe(false); // NOT Undefined is Undefined
    expect(where("temp = '22'", { temp: 22 })).toBe(true);
    expect(where("name < 'b'", { name: "a" })).toBe(true);
    expect(where("x IS UNDEFINED AND y IS NULL", { y: null })).toBe(true);
    expect(where("a = 1 OR b = 2", { b: 2 })).toBe(true);
    expect(where("a / 0 = 1", { a: 1 })).toBe(false);
  });

  it("a payload that is not JSON has no fields; SELECT * passes it on as it came", () => {
    expect(run("SELECT * FROM 'sensor/+'", "hello")).toEqual({ raw: Buffer.from("hello") });
    expect(run("SELECT temp FROM 'sensor/+'", "hello")).toEqual({ json: {} });
  });
});
