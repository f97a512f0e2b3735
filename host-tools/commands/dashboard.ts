import fs from "node:fs";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { DB_FORMS, isFileStore, openReadingsStore } from "../cloud/readings/open-store.ts";
import { DashboardServer } from "../dashboard/server.ts";

const USAGE = `usage: esplab dashboard --db STORE [--port 8090]
Live charts of every device's readings in a readings store (what esplab readings subscribe and the readings action
of esplab iot rules write: a SQLite file, postgres://… or influx://…, as esplab readings --help shows): one chart per
field with its unit from the name (distance_cm, uptime_ms …), one line per device, a time range, a device filter
and a CSV download of what is shown; new readings appear as they are stored. Ctrl-C stops it.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { db: { type: "string" }, port: { type: "string", default: "8090" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return (console.log(USAGE), 0);
  if (!values.db) throw new UsageError("usage", `--db STORE is required (the readings store to chart): ${DB_FORMS}\n${USAGE}`);
  if (isFileStore(values.db) && !fs.existsSync(values.db)) throw new UsageError("no-store", `${values.db} does not exist; store readings there first with: esplab readings subscribe --broker URL --db ${values.db}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("bad-port", `--port must be 0–65535, got "${values.port}"`);
  const store = openReadingsStore(values.db);
  const server = new DashboardServer({ source: { readings: (query) => store.readings(query), devices: () => store.devices(), describe: () => store.location }, log: (line) => console.error(line) });
  const url = await server.listen(port).catch(async (error: Error) => {
    await store.close();
    throw new UsageError("port-in-use", error.message);
  });
  console.log(`dashboard of ${store.location} at ${url} — Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  await store.close();
  return 0;
}
