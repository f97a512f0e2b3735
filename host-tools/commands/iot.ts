import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { startIotCore } from "../cloud/iot/iot-core.ts";
import { submitJob } from "../cloud/iot/jobs-service.ts";
import { loadRulesFile } from "../cloud/iot/rules/rules-engine.ts";
import { openReadingsStore } from "../cloud/readings/open-store.ts";
import { IotRegistry, type CertificateStatus } from "../cloud/iot/registry.ts";

const DEFAULT_DATA = path.resolve(import.meta.dirname, "../../.esplab/iot");

const USAGE = `usage: esplab iot start [--port 8883] [--alpn-port 443] [--host 127.0.0.1] [--rules FILE.yaml] [--data DIR] [-v]
       esplab iot create-thing NAME [--policy FILE.json] [--out DIR] [--data DIR]
       esplab iot list [--data DIR]
       esplab iot activate|deactivate|revoke NAME-OR-CERTIFICATE-ID [--data DIR]
       esplab iot delete-thing NAME [--data DIR]
       esplab iot create-job JOB-ID --thing NAME [--thing NAME…] --document FILE.json [--data DIR]
       esplab iot jobs [--data DIR]
A local AWS IoT Core: things with X.509 certificates from its own CA, mutual TLS on --port (and ALPN x-amzn-mqtt-ca
on --alpn-port, as AWS does on 443), AWS policies, the Device Shadow and Jobs services on AWS's topics. Everything is
kept in --data (default .esplab/iot). create-thing writes the thing's certificate.pem.crt, private.pem.key,
public.pem.key, root-CA.pem and an esplab.config.json for the virtual board into --out (default DATA/things/NAME):
  npx esplab lab --app telemetry --config .esplab/iot/things/NAME/esplab.config.json
--rules takes topic rules in AWS IoT SQL with republish, http and readings actions (docs/aws-iot.md, "Rules").
With --host 0.0.0.0 boards on your network can connect; give them this laptop's address as aws_endpoint.`;

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      data: { type: "string" },
      port: { type: "string" },
      "alpn-port": { type: "string" },
      host: { type: "string" },
      policy: { type: "string" },
      rules: { type: "string" },
      out: { type: "string" },
      thing: { type: "string", multiple: true },
      document: { type: "string" },
      verbose: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !action || action === "help") return (console.log(USAGE), action ? 0 : 1);
  const dataDir = path.resolve(values.data ?? DEFAULT_DATA);
  const name = positionals[0];
  const needName = (what: string) => {
    if (!name) throw new UsageError("usage", `esplab iot ${action} needs ${what}\n${USAGE}`);
    return name;
  };
  switch (action) {
    case "start":
      return start(dataDir, values);
    case "create-thing":
      return createThing(dataDir, needName("a thing name"), values);
    case "list":
      return list(dataDir);
    case "activate":
    case "deactivate":
    case "revoke": {
      const status: CertificateStatus = action === "activate" ? "ACTIVE" : action === "deactivate" ? "INACTIVE" : "REVOKED";
      const records = (await IotRegistry.open(dataDir)).setStatus(needName("a thing name or certificate id"), status);
      for (const record of records) console.log(`${record.thingName}: certificate ${record.certificateId.slice(0, 12)}… is ${record.status}`);
      return 0;
    }
    case "delete-thing":
      (await IotRegistry.open(dataDir)).deleteThing(needName("a thing name"));
      console.log(`thing ${name} and its certificates removed; a device still using them is refused from now on`);
      return 0;
    case "create-job":
      return createJob(dataDir, needName("a job id"), values);
    case "jobs":
      return listJobs(dataDir);
    default:
      throw new UsageError("usage", `unknown action "${action}"\n${USAGE}`);
  }
}

function portOption(text: string | undefined, fallback: number | undefined, flag: string): number | undefined {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("bad-port", `${flag} must be 0–65535, got "${text}"`);
  return port;
}

async function start(dataDir: string, values: { port?: string; "alpn-port"?: string; host?: string; rules?: string; verbose?: boolean }): Promise<number> {
  const rules = values.rules ? loadRulesFile(values.rules) : undefined;
  const stores: { close(): void | Promise<void> }[] = [];
  const core = await startIotCore({
    rules,
    openStore: async (db) => {
      const store = await openReadingsStore(db);
      stores.push(store);
      return store;
    },
    dataDir,
    host: values.host,
    port: portOption(values.port, 8883, "--port"),
    alpnPort: portOption(values["alpn-port"], undefined, "--alpn-port"),
    log: (line) => (values.verbose || /refused|may not/.test(line) ? console.log(line) : undefined),
  }).catch((error: Error) => {
    throw new UsageError("iot-start", error.message);
  });
  const things = core.registry.things();
  console.log(
    `local AWS IoT Core at ${core.endpoint}:${core.port} (mutual TLS)${core.alpnPort ? `, ALPN x-amzn-mqtt-ca on ${core.alpnPort}` : ""}; ` +
      `${things.length} thing(s) in ${dataDir}${things.length ? "" : " — make one with: npx esplab iot create-thing NAME"}` +
      `${core.rules ? `; rules: ${core.rules.rules.join(", ")}` : ""}. Ctrl-C stops it`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await core.close();
  for (const store of stores) await store.close();
  return 0;
}

async function createThing(dataDir: string, thingName: string, values: { policy?: string; out?: string; port?: string }): Promise<number> {
  const registry = await IotRegistry.open(dataDir);
  let policy: { name: string; document: unknown } | undefined;
  if (values.policy) {
    let document: unknown;
    try {
      document = JSON.parse(fs.readFileSync(values.policy, "utf8"));
    } catch (error) {
      throw new UsageError("bad-policy", `cannot read the policy ${values.policy}: ${(error as Error).message}`);
    }
    policy = { name: path.basename(values.policy, ".json"), document };
  }
  const out = path.resolve(values.out ?? path.join(dataDir, "things", thingName));
  const registered = registry.things().some((entry) => entry.thing.thingName === thingName);
  if (!registered && fs.existsSync(path.join(out, "private.pem.key"))) throw new UsageError("exists", `${out} already holds a thing's key; choose another --out`);
  const { certificate, record } = await registry.createThing(thingName, policy ? { policy } : {});
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(out, "certificate.pem.crt"), certificate.certificatePem);
  fs.writeFileSync(path.join(out, "private.pem.key"), certificate.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(out, "public.pem.key"), certificate.publicKeyPem);
  fs.writeFileSync(path.join(out, "root-CA.pem"), registry.ca.certificatePem);
  const config = {
    "// the thing's own settings for esplab lab --config; holds its private key: keep it out of git": "",
    app: "telemetry",
    device_id: thingName,
    mqtt_profile: "aws",
    aws_endpoint: "127.0.0.1",
    aws_port: portOption(values.port, 8883, "--port"),
    aws_certificate: certificate.certificatePem,
    aws_private_key: certificate.privateKeyPem,
    aws_root_ca: registry.ca.certificatePem,
  };
  fs.writeFileSync(path.join(out, "esplab.config.json"), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  console.log(`thing ${thingName} registered; certificate ${record.certificateId} is ACTIVE with policy ${record.policies.join(", ")}`);
  console.log(`files in ${out}: certificate.pem.crt, private.pem.key, public.pem.key, root-CA.pem, esplab.config.json`);
  const configFile = path.relative(process.cwd(), path.join(out, "esplab.config.json"));
  console.log(`run it on the virtual board: npx esplab lab --config ${configFile.startsWith("..") ? path.join(out, "esplab.config.json") : configFile}`);
  return 0;
}

async function list(dataDir: string): Promise<number> {
  const things = (await IotRegistry.open(dataDir)).things();
  if (!things.length) console.log(`no things in ${dataDir}; make one with: npx esplab iot create-thing NAME`);
  for (const { thing, certificates } of things) {
    console.log(`${thing.thingName}  ${certificates.map((c) => `${c.certificateId.slice(0, 12)}… ${c.status} (${c.policies.join(", ")})`).join("; ") || "no certificate"}`);
  }
  return 0;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError("bad-file", `cannot read the ${what} ${file}: ${(error as Error).message}`);
  }
}

async function createJob(dataDir: string, jobId: string, values: { thing?: string[]; document?: string }): Promise<number> {
  if (!values.document) throw new UsageError("usage", "--document FILE.json is required (the job document the device gets)");
  const registry = await IotRegistry.open(dataDir);
  const known = new Set(registry.things().map((entry) => entry.thing.thingName));
  const targets = values.thing ?? [];
  const unknown = targets.filter((thing) => !known.has(thing));
  if (unknown.length) throw new UsageError("unknown-thing", `no thing ${unknown.join(", ")} in ${dataDir}; things: ${[...known].join(", ") || "none"}`);
  submitJob(dataDir, jobId, targets, readJson(values.document, "job document"));
  console.log(`job ${jobId} queued for ${targets.join(", ")}; a running esplab iot start sends it within a second (otherwise it is sent at the next start)`);
  return 0;
}

async function listJobs(dataDir: string): Promise<number> {
  const file = path.join(dataDir, "jobs.json");
  if (!fs.existsSync(file)) return (console.log(`no jobs in ${dataDir}`), 0);
  const state = readJson(file, "jobs file") as { jobs: Record<string, { jobId: string; status: string }>; executions: { jobId: string; thingName: string; status: string }[] };
  for (const job of Object.values(state.jobs)) {
    const executions = state.executions.filter((e) => e.jobId === job.jobId).map((e) => `${e.thingName} ${e.status}`);
    console.log(`${job.jobId}  ${job.status}  ${executions.join(", ")}`);
  }
  return 0;
}
