import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { KEY_FILES_DIR, ServiceAccounts } from "../cloud/firebase/service-accounts.ts";
import { startLocalCloud } from "../cloud/index.ts";

const DEFAULT_DATA = path.resolve(import.meta.dirname, "../../.esplab/cloud");
/** The local cloud's Firebase project (startFirebaseEmulator's default). */
const PROJECT_ID = "demo-esplab";

const USAGE = `usage: esplab cloud [--database-port 9000] [--auth-port 9099] [--mqtt-port 1883] [--data DIR] [--database-secret S]
       esplab cloud service-account create NAME [--out FILE] [--auth-port 9099] [--data DIR]
       esplab cloud service-account list|delete NAME [--data DIR]

Runs the local cloud on 127.0.0.1: the Firebase emulator (Realtime Database + Auth, the same paths and ports as
Firebase's emulator suite) and an MQTT broker. Data persists in --data (default .esplab/cloud). Ctrl-C stops it.
  --database-secret S  a legacy database secret the database takes as full access (?auth=S), for firmware that
                       uses one (firebase_database_secret); also ESPLAB_DATABASE_SECRET. At least 16 characters.
service-account create makes a service account NAME@${PROJECT_ID}.iam.gserviceaccount.com (if new) and a key for it,
and writes the key file in Google's JSON format to --out (default DATA/${KEY_FILES_DIR}/NAME.json, owner-only); its
token_uri is the local cloud's http://127.0.0.1:<auth-port>/token. The local cloud keeps only the public key, as Google
does. A running cloud takes the new key at once. delete removes the account and its keys. docs/service-accounts.md`;

export async function run(args: string[]): Promise<number> {
  if (args[0] === "service-account") return serviceAccount(args.slice(1));
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
    dataDir: values.data ?? DEFAULT_DATA,
    log: (line) => console.log(line),
  });
  const db = cloud.firebase.databaseUrl.replace(/^http:\/\//, "");
  console.log(`esplab cloud
  Realtime Database  ${cloud.firebase.databaseUrl}/?ns=${cloud.namespace}   (FIREBASE_DATABASE_EMULATOR_HOST=${db})
  Auth               ${cloud.firebase.authUrl}   (FIREBASE_AUTH_EMULATOR_HOST=${cloud.firebase.authUrl.replace(/^http:\/\//, "")})
  OAuth token        ${cloud.firebase.authUrl}/token   (${cloud.firebase.serviceAccounts.list().length} service account(s); add one: npx esplab cloud service-account create NAME)
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

function serviceAccount(args: string[]): number {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { data: { type: "string" }, out: { type: "string" }, "auth-port": { type: "string", default: "9099" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help || !action) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  const dataDir = path.resolve(values.data ?? DEFAULT_DATA);
  const accounts = new ServiceAccounts(PROJECT_ID, dataDir);
  const name = positionals[0];
  const needName = () => {
    if (!name) throw new UsageError("usage", `esplab cloud service-account ${action} needs a NAME\n${USAGE}`);
    return name;
  };
  switch (action) {
    case "create": {
      const authPort = Number(values["auth-port"]);
      if (!Number.isInteger(authPort) || authPort < 1 || authPort > 65535) throw new UsageError("PORT", `--auth-port must be 1–65535, got "${values["auth-port"]}"`);
      const out = path.resolve(values.out ?? path.join(dataDir, KEY_FILES_DIR, `${needName()}.json`));
      if (fs.existsSync(out)) {
        throw new UsageError("KEY_FILE_EXISTS", `${out} already exists: give --out FILE for the new key, or delete the old file first (its key stays valid until you delete the account)`);
      }
      let key;
      try {
        key = accounts.createKey(needName(), `http://127.0.0.1:${authPort}/token`);
      } catch (error) {
        throw new UsageError("SERVICE_ACCOUNT", (error as Error).message);
      }
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
      console.log(`service account ${key.client_email}: key ${key.private_key_id.slice(0, 12)}… written to ${out}
  the device's settings (esplab.config.json):
    "firebase_client_email": "${key.client_email}",
    "firebase_private_key": <the file's private_key>,
    "firebase_auth_emulator_host": "127.0.0.1:${authPort}"`);
      return 0;
    }
    case "list": {
      const all = accounts.list();
      if (all.length === 0) console.log(`no service accounts in ${dataDir} — make one with: npx esplab cloud service-account create NAME`);
      for (const account of all) console.log(`${account.clientEmail}  ${account.keyIds.length} key(s): ${account.keyIds.map((id) => `${id.slice(0, 12)}…`).join(", ")}`);
      return 0;
    }
    case "delete":
      if (!accounts.delete(needName())) throw new UsageError("NO_SUCH_ACCOUNT", `no service account "${name}" in ${dataDir}: see npx esplab cloud service-account list`);
      console.log(`service account ${name} and its keys deleted; their JWTs are refused from now on (access tokens already issued run out within the hour)`);
      return 0;
    default:
      throw new UsageError("usage", `unknown action "${action}"\n${USAGE}`);
  }
}
