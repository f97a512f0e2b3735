import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { startMqttBroker } from "../cloud/mqtt/broker.ts";

const USAGE = `usage: esplab broker [--port 1883] [--data DIR] [--username U --password P]
The local MQTT 3.1.1 broker alone (aedes on 127.0.0.1: QoS 0–2, retained messages, wills, persistent sessions).
With --data, persistent sessions and the messages queued for them are kept in DIR/mqtt-sessions.sqlite and survive
a restart of the broker, as mosquitto's "persistence true" does.
With --username/--password (or ESPLAB_MQTT_PASSWORD) clients must log in: a wrong pair gets CONNACK 4, none 5.
Ctrl-C stops it.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string", default: "1883" }, data: { type: "string" }, username: { type: "string" }, password: { type: "string" }, verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return (console.log(USAGE), 0);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("bad-port", `--port must be 0–65535, got "${values.port}"`);
  const password = values.password ?? process.env.ESPLAB_MQTT_PASSWORD;
  if ((values.username === undefined) !== (password === undefined)) throw new UsageError("bad-credentials", "give both --username and --password (or ESPLAB_MQTT_PASSWORD), or neither");
  const broker = await startMqttBroker({ port, users: values.username ? { [values.username]: password! } : undefined, dataDir: values.data, log: values.verbose ? (line) => console.log(line) : undefined }).catch((error: Error) => {
    throw new UsageError("port-in-use", error.message);
  });
  console.log(`MQTT broker on ${broker.url}${values.username ? ` (login required: user ${values.username})` : ""}${values.data ? `, sessions kept in ${values.data}` : ""} — Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await broker.close();
  return 0;
}
