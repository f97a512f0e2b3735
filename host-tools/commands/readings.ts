import fs from "node:fs";
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { readingsToCsv } from "../cloud/readings/csv.ts";
import { DB_FORMS, isFileStore, openReadingsStore } from "../cloud/readings/open-store.ts";
import type { ReadingsStorage } from "../cloud/readings/readings-storage.ts";
import { subscribeReadings } from "../cloud/readings/subscriber.ts";

const USAGE = `usage: esplab readings subscribe --broker URL --db STORE [--topic sensor/#] [--username U --password P]
       esplab readings export --db STORE [--device ID] [--since 2026-11-22T10:00:00Z] [--out FILE.csv]
       esplab readings show --db STORE
The server side of the course: subscribe stores every reading published on sensor/<device> (a JSON object, with
an optional "seq") once per device and sequence number (without seq: once per MQTT delivery), and keeps what is not
a reading with the reason; it acknowledges a reading only once the store has it durably, and while the store is
down it leaves readings with the broker and tries again. export writes them as CSV (stdout by default).
STORE is a SQLite file (created if needed), postgres://user:password@host:5432/DATABASE (the tables are created on
first use), or influx://[user:password@]host:8086/DATABASE (InfluxDB 1.x; add ?org=ORG for the 2.x write API;
a token from ?token= or INFLUX_TOKEN; influxs:// for HTTPS). The MQTT password may also come from
ESPLAB_MQTT_PASSWORD; a PostgreSQL password from PGPASSWORD.`;

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      broker: { type: "string" },
      db: { type: "string" },
      topic: { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      device: { type: "string" },
      since: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !action || action === "help") return (console.log(USAGE), action ? 0 : 1);
  if (!values.db) throw new UsageError("usage", `--db STORE is required: ${DB_FORMS}\n${USAGE}`);
  if (action === "subscribe") return subscribe(values.db, values);
  if (action !== "export" && action !== "show") throw new UsageError("usage", `unknown action "${action}"\n${USAGE}`);
  if (action === "export") return exportCsv(values.db, values);
  return withStore(values.db, async (store) => {
    const counts = await store.count();
    console.log(`${counts.readings} readings, ${counts.rejects} rejected messages in ${store.location}`);
    for (const reject of (await store.rejects()).slice(-5)) console.log(`  rejected ${reject.topic}: ${reject.reason}`);
    return 0;
  });
}

/** Opens an existing store, runs `work`, and closes it (a store's failure is an EsplabError: one line naming the fix). */
async function withStore<T>(db: string, work: (store: ReadingsStorage) => Promise<T>): Promise<T> {
  if (isFileStore(db) && !fs.existsSync(db)) {
    throw new UsageError("no-store", `${db} does not exist; store readings there first with: esplab readings subscribe --broker URL --db ${db}`);
  }
  const store = openReadingsStore(db);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function subscribe(db: string, values: { broker?: string; topic?: string; username?: string; password?: string }): Promise<number> {
  if (!values.broker) throw new UsageError("usage", `--broker URL is required, e.g. mqtt://127.0.0.1:1883\n${USAGE}`);
  const store = openReadingsStore(db);
  console.error(`storing readings in ${store.location}`);
  let stored = 0;
  let duplicates = 0;
  const subscriber = subscribeReadings({
    brokerUrl: values.broker,
    store,
    topic: values.topic,
    username: values.username,
    password: values.password ?? process.env.ESPLAB_MQTT_PASSWORD,
    onStatus: (line) => console.error(line),
    onReading: ({ device, seq, result }) => {
      if (result === "stored") stored++;
      else duplicates++;
      console.log(`${device} ${seq === undefined ? "(no seq)" : `#${seq}`}${result === "duplicate" ? " (duplicate, kept once)" : ""}`);
    },
    onReject: ({ topic, reason }) => console.error(`rejected ${topic}: ${reason}`),
  });
  try {
    await subscriber.ready;
    const outcome = await Promise.race([
      subscriber.failed,
      new Promise<"stop">((resolve) => {
        process.once("SIGINT", () => resolve("stop"));
        process.once("SIGTERM", () => resolve("stop"));
      }),
    ]);
    void outcome;
    const total = await Promise.resolve(store.count()).then(
      (counts) => `${counts.readings} in ${store.location}`,
      () => `${store.location} did not answer for a count`,
    );
    console.error(`stopped: ${stored} readings stored, ${duplicates} duplicates ignored (${total})`);
    return 0;
  } finally {
    subscriber.close();
    await store.close();
  }
}

async function exportCsv(db: string, values: { device?: string; since?: string; out?: string }): Promise<number> {
  let since: number | undefined;
  if (values.since !== undefined) {
    since = Date.parse(values.since);
    if (Number.isNaN(since)) throw new UsageError("bad-since", `--since ${values.since} is not a date; write 2026-11-22 or 2026-11-22T10:00:00Z`);
  }
  return withStore(db, async (store) => {
    const csv = readingsToCsv(await store.readings({ device: values.device, since }));
    if (values.out) {
      await writeFile(values.out, csv);
      console.error(`wrote ${csv.split("\r\n").length - 2} readings to ${values.out}`);
    } else {
      process.stdout.write(csv);
    }
    return 0;
  });
}
