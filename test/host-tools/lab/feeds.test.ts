import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalCloud, type LocalCloud } from "../../../host-tools/cloud/index.ts";
import { readingsFeed, type ReadingSource } from "../../../host-tools/lab/feeds.ts";
import { until } from "../../support/until.ts";

let cloud: LocalCloud;
beforeAll(async () => {
  cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0 });
});
afterAll(async () => {
  await cloud?.close();
});

describe("the lab's readings feed", () => {
  it("plots the database's readings or, for the telemetry app, those published over MQTT, with both series", async () => {
    let source: ReadingSource = "database";
    const feed = readingsFeed(cloud, () => "Device001", () => source);
    await cloud.firebase.database.adminSet(cloud.namespace, "/readings/Device001/-a", { cm: 42, obstacle: false, seq: 1 });
    expect(feed.snapshot()).toEqual({ source: "database", points: [{ seq: 1, cm: 42, obstacle: false }] });

    const sent: unknown[] = [];
    const stop = feed.subscribe((data) => sent.push(data));
    await cloud.mqtt.publish("sensor/Device001", JSON.stringify({ seq: 7, distance_cm: 12.5, obstacle: true }), { qos: 1 });
    source = "mqtt";
    await until(() => sent.length > 0, "the feed to switch to MQTT");
    expect(sent[0]).toEqual({ source: "mqtt", points: [{ seq: 7, cm: 12.5, obstacle: true }] });
    await cloud.mqtt.publish("sensor/Device001", JSON.stringify({ seq: 8, obstacle: false }), { qos: 1 });
    await until(() => sent.length > 1, "the next MQTT reading");
    expect(sent[1]).toEqual({ point: { seq: 8, cm: undefined, obstacle: false } });
    stop();
  });
});
