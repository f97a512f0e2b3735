/**
 * The local AWS IoT Core's registry, kept in its data directory: the root CA (ca.pem, ca.key), and registry.json with
 * the things, their certificates (id, PEM, status ACTIVE | INACTIVE | REVOKED) and the policies attached to each
 * certificate. Every change is written atomically; a running server re-reads the file when another process (an
 * `esplab iot create-thing` beside `esplab iot start`) has changed it.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../../../firmware/core/errors.ts";
import { checkThingName } from "../../../firmware/net/aws/iot-core.ts";
import { writeFileAtomically } from "../firebase/atomic-file.ts";
import { certificateId, createCertificateAuthority, issueThingCertificate, type CertificateAuthority, type IssuedCertificate } from "./pki.ts";
import { checkPolicy, defaultThingPolicy, type PolicyDocument } from "./policy.ts";

export type CertificateStatus = "ACTIVE" | "INACTIVE" | "REVOKED";

export interface ThingRecord {
  thingName: string;
  thingArn: string;
  createdAt: string;
}

export interface CertificateRecord {
  certificateId: string;
  certificateArn: string;
  certificatePem: string;
  status: CertificateStatus;
  thingName: string;
  policies: string[];
  createdAt: string;
}

interface RegistryFile {
  things: Record<string, ThingRecord>;
  certificates: Record<string, CertificateRecord>;
  policies: Record<string, PolicyDocument>;
}

export const DEFAULT_POLICY_NAME = "esplab-thing-policy";

export interface IotRegion {
  region: string;
  account: string;
}

export const LOCAL_REGION: IotRegion = { region: "local", account: "000000000000" };

export class IotRegistry {
  readonly dir: string;
  readonly ca: CertificateAuthority;
  #file: RegistryFile;
  #loadedAtMs = 0;
  #checkedAtMs = 0;

  private constructor(dir: string, ca: CertificateAuthority) {
    this.dir = dir;
    this.ca = ca;
    this.#file = { things: {}, certificates: {}, policies: {} };
    this.#reload(true);
  }

  /** Opens the registry in `dir`, making the directory and its root CA on first use. */
  static async open(dir: string): Promise<IotRegistry> {
    fs.mkdirSync(dir, { recursive: true });
    const caFile = path.join(dir, "ca.pem");
    const keyFile = path.join(dir, "ca.key");
    if (!fs.existsSync(caFile) || !fs.existsSync(keyFile)) {
      const ca = await createCertificateAuthority();
      writeFileAtomically(keyFile, ca.privateKeyPem, 0o600);
      writeFileAtomically(caFile, ca.certificatePem);
    }
    return new IotRegistry(dir, { certificatePem: fs.readFileSync(caFile, "utf8"), privateKeyPem: fs.readFileSync(keyFile, "utf8") });
  }

  get #registryFile(): string {
    return path.join(this.dir, "registry.json");
  }

  /** Re-reads registry.json if it changed on disk since it was last read (looking at most every 200 ms). */
  #reload(force = false): void {
    const now = Date.now();
    if (!force && now - this.#checkedAtMs < 200) return;
    this.#checkedAtMs = now;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.#registryFile);
    } catch {
      return;
    }
    if (stat.mtimeMs === this.#loadedAtMs) return;
    let parsed: RegistryFile;
    try {
      parsed = JSON.parse(fs.readFileSync(this.#registryFile, "utf8")) as RegistryFile;
    } catch (error) {
      throw new UsageError("bad-registry", `${this.#registryFile} is not valid JSON (${(error as Error).message}); restore it from a backup or remove the directory to start over`);
    }
    this.#file = { things: parsed.things ?? {}, certificates: parsed.certificates ?? {}, policies: parsed.policies ?? {} };
    this.#loadedAtMs = stat.mtimeMs;
  }

  #save(): void {
    writeFileAtomically(this.#registryFile, `${JSON.stringify(this.#file, null, 2)}\n`);
    this.#loadedAtMs = fs.statSync(this.#registryFile).mtimeMs;
  }

  /** A certificate by its id, as it stands now (status changes by another process show within 200 ms). */
  certificateById(id: string): CertificateRecord | undefined {
    this.#reload();
    return this.#file.certificates[id];
  }

  things(): { thing: ThingRecord; certificates: CertificateRecord[] }[] {
    this.#reload();
    return Object.values(this.#file.things).map((thing) => ({ thing, certificates: this.#certificatesOf(thing.thingName) }));
  }

  policy(name: string): PolicyDocument | undefined {
    this.#reload();
    return this.#file.policies[name];
  }

  /** Registers a thing and issues it a certificate with its key, as `aws iot create-keys-and-certificate` does. */
  async createThing(thingName: string, options: { policy?: { name: string; document: unknown }; region?: IotRegion } = {}): Promise<{ thing: ThingRecord; certificate: IssuedCertificate; record: CertificateRecord }> {
    try {
      checkThingName(thingName);
    } catch (error) {
      throw new UsageError("bad-thing-name", (error as Error).message);
    }
    this.#reload(true);
    if (this.#file.things[thingName]) {
      throw new UsageError("thing-exists", `thing ${thingName} is already registered; give another name, or remove it first with: esplab iot delete-thing ${thingName}`);
    }
    const policyName = options.policy?.name ?? DEFAULT_POLICY_NAME;
    const document = options.policy ? checkPolicy(options.policy.document, options.policy.name) : defaultThingPolicy();
    const { region, account } = options.region ?? LOCAL_REGION;
    const certificate = await issueThingCertificate(this.ca, thingName);
    this.#reload(true);
    const now = new Date().toISOString();
    const thing: ThingRecord = { thingName, thingArn: `arn:aws:iot:${region}:${account}:thing/${thingName}`, createdAt: now };
    const record: CertificateRecord = {
      certificateId: certificate.certificateId,
      certificateArn: `arn:aws:iot:${region}:${account}:cert/${certificate.certificateId}`,
      certificatePem: certificate.certificatePem,
      status: "ACTIVE",
      thingName,
      policies: [policyName],
      createdAt: now,
    };
    this.#file.things[thingName] = thing;
    this.#file.certificates[record.certificateId] = record;
    this.#file.policies[policyName] = document;
    this.#save();
    return { thing, certificate, record };
  }

  /** Sets the status of a thing's certificates (by thing name) or of one certificate (by id). */
  setStatus(thingOrCertificate: string, status: CertificateStatus): CertificateRecord[] {
    this.#reload(true);
    const records = this.#lookup(thingOrCertificate);
    for (const record of records) {
      if (record.status === "REVOKED" && status !== "REVOKED") {
        throw new UsageError("revoked", `certificate ${record.certificateId.slice(0, 12)}… of ${record.thingName} is revoked, and a revoked certificate stays revoked (as in AWS): esplab iot delete-thing ${record.thingName}, then create-thing it again`);
      }
      record.status = status;
    }
    this.#save();
    return records;
  }

  /** Removes a thing and its certificates; a device still holding one is refused from then on. */
  deleteThing(thingName: string): void {
    this.#reload(true);
    if (!this.#file.things[thingName]) throw this.#unknown(thingName);
    for (const record of this.#certificatesOf(thingName)) delete this.#file.certificates[record.certificateId];
    delete this.#file.things[thingName];
    this.#save();
  }

  /** The registered certificate a TLS peer presented, or undefined when it is not registered. */
  certificate(certificatePemOrDer: string | Buffer): CertificateRecord | undefined {
    this.#reload();
    const id = typeof certificatePemOrDer === "string" ? certificateId(certificatePemOrDer) : certificateIdOfDer(certificatePemOrDer);
    return this.#file.certificates[id];
  }

  policiesOf(record: CertificateRecord): PolicyDocument[] {
    return record.policies.map((name) => this.#file.policies[name]).filter((policy): policy is PolicyDocument => policy !== undefined);
  }

  #certificatesOf(thingName: string): CertificateRecord[] {
    return Object.values(this.#file.certificates).filter((record) => record.thingName === thingName);
  }

  #lookup(thingOrCertificate: string): CertificateRecord[] {
    if (this.#file.things[thingOrCertificate]) return this.#certificatesOf(thingOrCertificate);
    const byId = Object.values(this.#file.certificates).filter((record) => thingOrCertificate.length >= 8 && record.certificateId.startsWith(thingOrCertificate.toLowerCase()));
    if (byId.length === 1) return byId;
    throw this.#unknown(thingOrCertificate);
  }

  #unknown(name: string): UsageError {
    const known = Object.keys(this.#file.things);
    return new UsageError("unknown-thing", `no thing or certificate ${name} in ${this.dir}${known.length ? `; things: ${known.join(", ")}` : "; make one with: esplab iot create-thing NAME"}`);
  }
}

function certificateIdOfDer(der: Buffer): string {
  return crypto.createHash("sha256").update(der).digest("hex");
}
