import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { topicFilterProblem, topicMatches, topicNameProblem } from "../../../../firmware/net/mqtt/topics.ts";
import { topicFilter, topicName } from "./packet-arbitraries.ts";

describe("topic matching (MQTT 3.1.1 §4.7)", () => {
  it.each([
    ["sensor/#", "sensor", true],
    ["sensor/#", "sensor/Device001", true],
    ["sensor/#", "sensor/a/b/c", true],
    ["sensor/+", "sensor/Device001", true],
    ["sensor/+", "sensor/a/b", false],
    ["sensor/+", "sensor", false],
    ["sensor/+", "sensor/", true],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    ["#", "a/b", true],
    ["#", "$SYS/broker", false],
    ["+/broker", "$SYS/broker", false],
    ["$SYS/#", "$SYS/broker", true],
    ["cmd/+/servo", "cmd/Device001/servo", true],
    ["cmd/+/servo", "cmd/Device001/lcd", false],
    ["a/b", "a/b/c", false],
    ["a/b/c", "a/b", false],
    ["A", "a", false],
  ])("%s vs %s → %s", (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it("agrees with a regular-expression model on random filters and topics", () => {
    const model = (filter: string, topic: string) => {
      if (topic.startsWith("$") && /^[+#]/.test(filter)) return false;
      const pattern = filter
        .split("/")
        .map((level) => (level === "+" ? "[^/]*" : level === "#" ? "\u0001" : level.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/")
        .replace("/\u0001", "(/.*)?")
        .replace("\u0001", ".*");
      return new RegExp(`^${pattern}$`, "s").test(topic);
    };
    fc.assert(
      fc.property(topicFilter, topicName, (filter, topic) => {
        expect(topicMatches(filter, topic)).toBe(model(filter, topic));
      }),
      { numRuns: 3000 },
    );
  });

  it("names problems of topics and filters", () => {
    expect(topicNameProblem("sensor/#")).toMatch(/wildcard/);
    expect(topicNameProblem("")).toMatch(/empty/);
    expect(topicNameProblem("ok/topic")).toBeUndefined();
    expect(topicFilterProblem("sensor/#/x")).toMatch(/last/);
    expect(topicFilterProblem("sensor/a+")).toMatch(/whole level/);
    expect(topicFilterProblem("sensor/+/x/#")).toBeUndefined();
  });
});
