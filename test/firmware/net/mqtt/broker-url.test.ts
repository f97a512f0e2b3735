import { describe, expect, it } from "vitest";
import { brokerTarget } from "../../../../firmware/net/mqtt/broker-url.ts";
import { MqttUsageError } from "../../../../firmware/net/mqtt/errors.ts";

describe("brokerTarget", () => {
  it("reads mqtt:// and mqtts:// URLs with their default ports", () => {
    expect(brokerTarget("mqtt://127.0.0.1:1884")).toEqual({ host: "127.0.0.1", port: 1884, timeoutMs: 10_000 });
    expect(brokerTarget("mqtt://broker.example.com")).toMatchObject({ host: "broker.example.com", port: 1883 });
    expect(brokerTarget("mqtts://broker.example.com/")).toEqual({ host: "broker.example.com", port: 8883, tls: { serverName: "broker.example.com" }, timeoutMs: 10_000 });
  });

  it("refuses anything else, saying how to write it", () => {
    for (const url of ["http://h:1883", "mqtt://", "127.0.0.1:1883", "mqtt://h:1883/topic"]) {
      expect(() => brokerTarget(url)).toThrow(MqttUsageError);
    }
    expect(() => brokerTarget("tcp://h")).toThrow(/write mqtt:\/\/host:1883/);
  });
});
