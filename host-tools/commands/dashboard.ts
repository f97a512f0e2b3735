import fs from "node:fs";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { ReadingsStore } from "../cloud/readings/readings-store.ts";
import { DashboardServer } from "../dashboard/server.ts";

const USAGE = `usage: esplab dashboard --db FILE [--port 8090]
Live charts of every device's readings in a readings store (what esplab readings subscribe writes): one chart per
field with its unit from the name (distance_cm, uptime_ms …), one line per device, a time range, a device filter
and a CSV download of what is shown; new readings appear as they are stored. Ctrl-C stops it.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { db: { type: "string" }, port: { type: "string", default: "8090" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return (console.log(USAGE), 0);
  if (!values.db) throw new UsageError("usage", `--db FILE is required (the readings store to chart)\n${USAGE}`);
  if (!fs.existsSync(values.db)) throw new UsageError("no-store", `${values.db} does not exist; store readings there first with: esplab readings subscribe --broker URL --db ${values.db}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("bad-port", `--port must be 0–65535, got "${values.port}"`);
  const store = new ReadingsStore(values.db);
  const server = new DashboardServer({ source: { readings: (query) => store.readings(query), describe: () => `SQLite ${values.db}` }, log: (line) => console.error(line) });
  const url = await server.listen(port).catch((error: Error) => {
    store.close();
    throw new UsageError("port-in-use", error.message);
  });
  console.log(`dashboard of ${values.db} at ${url} — Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  store.close();
  return 0;
}
