import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { readingsToCsv } from "../cloud/readings/csv.ts";
import { ReadingsStore } from "../cloud/readings/readings-store.ts";
import { subscribeReadings } from "../cloud/readings/subscriber.ts";

const USAGE = `usage: esplab readings subscribe --broker URL --db FILE [--topic sensor/#] [--username U --password P]
       esplab readings export --db FILE [--device ID] [--since 2026-11-22T10:00:00Z] [--out FILE.csv]
       esplab readings show --db FILE
The server side of the course: subscribe stores every reading published on sensor/<device> (a JSON object, with
an optional "seq") in a SQLite file, once per device and sequence number (without seq: once per MQTT delivery), and
keeps what is not a reading with the reason; it acks a reading only once it is on disk. export writes them as CSV (stdout by default). The password may also come from
ESPLAB_MQTT_PASSWORD.`;

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
  if (!values.db) throw new UsageError("usage", `--db FILE is required (the SQLite file readings go to)\n${USAGE}`);
  if (action === "subscribe") return subscribe(values.db, values);
  if (action === "export") return exportCsv(values.db, values);
  if (action === "show") {
    const store = new ReadingsStore(values.db);
    const counts = store.count();
    console.log(`${counts.readings} readings, ${counts.rejects} rejected messages in ${values.db}`);
    for (const reject of store.rejects().slice(-5)) console.log(`  rejected ${reject.topic}: ${reject.reason}`);
    store.close();
    return 0;
  }
  throw new UsageError("usage", `unknown action "${action}"\n${USAGE}`);
}

async function subscribe(db: string, values: { broker?: string; topic?: string; username?: string; password?: string }): Promise<number> {
  if (!values.broker) throw new UsageError("usage", `--broker URL is required, e.g. mqtt://127.0.0.1:1883\n${USAGE}`);
  const store = new ReadingsStore(db);
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
    console.error(`stopped: ${stored} readings stored, ${duplicates} duplicates ignored (${store.count().readings} in ${db})`);
    return 0;
  } finally {
    subscriber.close();
    store.close();
  }
}

async function exportCsv(db: string, values: { device?: string; since?: string; out?: string }): Promise<number> {
  let since: number | undefined;
  if (values.since !== undefined) {
    since = Date.parse(values.since);
    if (Number.isNaN(since)) throw new UsageError("bad-since", `--since ${values.since} is not a date; write 2026-11-22 or 2026-11-22T10:00:00Z`);
  }
  const store = new ReadingsStore(db);
  try {
    const csv = readingsToCsv(store.readings({ device: values.device, since }));
    if (values.out) {
      await writeFile(values.out, csv);
      console.error(`wrote ${csv.split("\r\n").length - 2} readings to ${values.out}`);
    } else {
      process.stdout.write(csv);
    }
  } finally {
    store.close();
  }
  return 0;
}
