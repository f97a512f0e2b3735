import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { startLocalCloud } from "../cloud/index.ts";

const USAGE = `usage: esplab cloud [--database-port 9000] [--auth-port 9099] [--mqtt-port 1883] [--data DIR] [--database-secret S]

Runs the local cloud on 127.0.0.1: the Firebase emulator (Realtime Database + Auth, the same paths and ports as
Firebase's emulator suite) and an MQTT broker. Data persists in --data (default .esplab/cloud). Ctrl-C stops it.
  --database-secret S  a legacy database secret the database takes as full access (?auth=S), for firmware that
                       uses one (firebase_database_secret); also ESPLAB_DATABASE_SECRET. At least 16 characters.`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "database-port": { type: "string", default: "9000" },
      "auth-port": { type: "string", default: "9099" },
      "mqtt-port": { type: "string", default: "1883" },
      data: { type: "string" },
      "database-secret": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new UsageError("PORT", `--${name} must be 0–65535, got "${text}"`);
    return value;
  };
  const secret = values["database-secret"] ?? process.env.ESPLAB_DATABASE_SECRET;
  if (secret !== undefined && secret.length < 16) {
    throw new UsageError("DATABASE_SECRET", "--database-secret must be at least 16 characters (a short secret is a guessable admin password)");
  }
  const cloud = await startLocalCloud({
    databaseSecrets: secret ? [secret] : undefined,
    databasePort: port("database-port", values["database-port"]!),
    authPort: port("auth-port", values["auth-port"]!),
    mqttPort: port("mqtt-port", values["mqtt-port"]!),
    dataDir: values.data ?? path.resolve(import.meta.dirname, "../../.esplab/cloud"),
    log: (line) => console.log(line),
  });
  const db = cloud.firebase.databaseUrl.replace(/^http:\/\//, "");
  console.log(`esplab cloud
  Realtime Database  ${cloud.firebase.databaseUrl}/?ns=${cloud.namespace}   (FIREBASE_DATABASE_EMULATOR_HOST=${db})
  Auth               ${cloud.firebase.authUrl}   (FIREBASE_AUTH_EMULATOR_HOST=${cloud.firebase.authUrl.replace(/^http:\/\//, "")})
  MQTT broker        ${cloud.mqtt.url}
  demo user          ${cloud.demoUser.email} (password ${cloud.demoUser.password}, local only)
Ctrl-C stops it.`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await cloud.close();
  return 0;
}
