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

/** One reading on the chart: the Sharp sensor's distance in cm and the FC-51's obstacle flag, as the device sent them. */
export interface ReadingPoint {
  seq?: number;
  cm?: number;
  obstacle?: boolean;
}
export type ReadingSource = "database" | "mqtt";

/**
 * The device's readings as chart points: those it stored under /readings/<deviceId> in the database, or those it
 * published on sensor/<deviceId> over MQTT (the telemetry app), as `source` says. A change of source, or fewer points
 * than before (the database was cleared), sends every point again ({source, points}); otherwise each new one ({point}).
 */
export function readingsFeed(cloud: LocalCloud, deviceId: () => string, source: () => ReadingSource = () => "database"): LabFeed {
  const points = (from: ReadingSource): ReadingPoint[] => {
    if (from === "mqtt") {
      return cloud.readings.readings({ device: deviceId() }).map((r) => ({
        seq: r.seq,
        cm: typeof r.fields.distance_cm === "number" ? r.fields.distance_cm : undefined,
        obstacle: typeof r.fields.obstacle === "boolean" ? r.fields.obstacle : undefined,
      }));
    }
    const readings = cloud.firebase.database.store(cloud.namespace).get(["readings", deviceId()]) as Record<string, { cm?: number | null; obstacle?: boolean; seq?: number }> | null;
    return Object.keys(readings ?? {})
      .sort()
      .map((key) => readings![key]!)
      .map((r) => ({ seq: r.seq, cm: typeof r.cm === "number" ? r.cm : undefined, obstacle: typeof r.obstacle === "boolean" ? r.obstacle : undefined }));
  };
  const all = () => {
    const from = source();
    return { source: from, points: points(from) };
  };
  return {
    name: "readings",
    snapshot: () => {
      const now = all();
      return { source: now.source, points: now.points.slice(-200) };
    },
    subscribe(send) {
      let last = all();
      const timer = setInterval(() => {
        const now = all();
        if (now.source !== last.source || now.points.length < last.points.length) send({ source: now.source, points: now.points.slice(-200) });
        else for (const point of now.points.slice(last.points.length)) send({ point });
        last = now;
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
