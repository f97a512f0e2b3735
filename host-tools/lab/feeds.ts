import type { JsonValue } from "../../firmware/net/firebase/ordering.ts";
import type { LocalCloud } from "../cloud/index.ts";
import { toWire } from "../cloud/firebase/database-server.ts";
import type { LabFeed } from "./server.ts";

const POLL_MS = 300;

/** The database tree of the lab's namespace, pushed to the page when it changes. */
export function databaseFeed(cloud: LocalCloud): LabFeed {
  const tree = () => toWire(cloud.firebase.database.store(cloud.namespace).root);
  return {
    name: "database",
    snapshot: () => ({ tree: tree() }),
    subscribe(send) {
      let last = JSON.stringify(tree());
      const timer = setInterval(() => {
        const now = JSON.stringify(tree());
        if (now === last) return;
        last = now;
        send({ tree: JSON.parse(now) as JsonValue });
      }, POLL_MS);
      return () => clearInterval(timer);
    },
  };
}

/**
 * The device's readings as chart points (distance in cm, or obstacle 1/0): those it stored under /readings/<deviceId>
 * in the database, or else those it published on sensor/<deviceId> over MQTT.
 */
export function readingsFeed(cloud: LocalCloud, deviceId: () => string): LabFeed {
  const points = () => {
    const readings = cloud.firebase.database.store(cloud.namespace).get(["readings", deviceId()]) as Record<string, { cm?: number | null; obstacle?: boolean; seq?: number }> | null;
    if (readings && Object.keys(readings).length > 0) {
      return Object.keys(readings)
        .sort()
        .map((key) => readings[key]!)
        .map((r) => ({ seq: r.seq, value: typeof r.cm === "number" ? r.cm : r.obstacle ? 1 : 0 }));
    }
    return cloud.readings.readings({ device: deviceId() }).map((r) => ({ seq: r.seq, value: typeof r.fields.distance_cm === "number" ? r.fields.distance_cm : r.fields.obstacle ? 1 : 0 }));
  };
  return {
    name: "readings",
    snapshot: () => ({ points: points().slice(-200) }),
    subscribe(send) {
      let count = points().length;
      const timer = setInterval(() => {
        const all = points();
        for (const point of all.slice(count)) send(point);
        count = all.length;
      }, POLL_MS);
      return () => clearInterval(timer);
    },
  };
}

/** Messages through the local broker. */
export function mqttFeed(cloud: LocalCloud): LabFeed {
  const recent: { topic: string; payload: string }[] = [];
  cloud.mqtt.onPublish((message) => {
    recent.push({ topic: message.topic, payload: message.payload });
    if (recent.length > 200) recent.shift();
  });
  return {
    name: "mqtt",
    snapshot: () => ({ messages: recent.slice(-100) }),
    subscribe: (send) => cloud.mqtt.onPublish((message) => send({ topic: message.topic, payload: message.payload })),
  };
}
