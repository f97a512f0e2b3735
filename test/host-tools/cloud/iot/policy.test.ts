import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkPolicy, defaultThingPolicy, isAllowed, wildcard, type PolicyDocument } from "../../../../host-tools/cloud/iot/policy.ts";

const context = { region: "local", account: "000000000000", clientId: "lab-thing", thingName: "lab-thing" };

describe("AWS IoT policies", () => {
  it("the default thing policy: its own client id and topics, nobody else's", () => {
    const policy = [defaultThingPolicy()];
    expect(isAllowed(policy, "iot:Connect", "lab-thing", context)).toBe(true);
    expect(isAllowed(policy, "iot:Connect", "other", context)).toBe(false);
    expect(isAllowed(policy, "iot:Publish", "sensor/lab-thing", context)).toBe(true);
    expect(isAllowed(policy, "iot:Publish", "$aws/things/lab-thing/shadow/update", context)).toBe(true);
    expect(isAllowed(policy, "iot:Publish", "$aws/things/other/shadow/update", context)).toBe(false);
    expect(isAllowed(policy, "iot:Subscribe", "cmd/lab-thing/#", context)).toBe(true);
    expect(isAllowed(policy, "iot:Subscribe", "cmd/#", context)).toBe(false);
    expect(isAllowed(policy, "iot:Receive", "cmd/lab-thing/servo", context)).toBe(true);
  });

  // https://docs.aws.amazon.com/iot/latest/developerguide/iot-policies.html: an explicit deny overrides allows
  it("an explicit Deny wins; a statement with an unresolvable variable matches nothing", () => {
    const policy: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "iot:*", Resource: "*" },
        { Effect: "Deny", Action: ["iot:Publish"], Resource: "arn:aws:iot:*:*:topic/admin/*" },
      ],
    };
    expect(isAllowed([policy], "iot:Publish", "sensor/x", context)).toBe(true);
    expect(isAllowed([policy], "iot:Publish", "admin/reset", context)).toBe(false);
    const thingless = { ...context, thingName: undefined };
    const own: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}" }] };
    expect(isAllowed([own], "iot:Connect", "lab-thing", thingless)).toBe(false);
    expect(isAllowed([own], "iot:Connect", "", thingless)).toBe(false);
  });

  it("names what is wrong with a policy file", () => {
    expect(() => checkPolicy({ Version: "2012-10-17", Statement: [] }, "p.json")).toThrow(/policy p.json: Statement must be a non-empty list/);
    expect(() => checkPolicy({ Statement: [{ Effect: "allow", Action: "iot:*", Resource: "*" }] }, "p.json")).toThrow(/Statement 1: Effect must be "Allow" or "Deny"/);
    expect(() => checkPolicy({ Statement: [{ Effect: "Allow", Action: 3, Resource: "*" }] }, "p.json")).toThrow(/Action must be a string/);
  });

  it("wildcards: * spans slashes, ? is one character; agrees with a regular expression on random input", () => {
    expect(wildcard("topic/sensor/*", "topic/sensor/a/b")).toBe(true);
    expect(wildcard("a?c", "abc")).toBe(true);
    expect(wildcard("a?c", "ac")).toBe(false);
    const alphabet = fc.constantFrom("a", "b", "/", "*", "?");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 12 }), fc.array(fc.constantFrom("a", "b", "/"), { maxLength: 12 }), (pattern, text) => {
        const source = `^${pattern.map((c) => (c === "*" ? ".*" : c === "?" ? "." : c)).join("")}$`;
        expect(wildcard(pattern.join(""), text.join(""))).toBe(new RegExp(source, "s").test(text.join("")));
      }),
      { numRuns: 2000 },
    );
  });
});
