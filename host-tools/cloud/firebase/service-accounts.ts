import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "./atomic-file.ts";

/** The service accounts' public keys in a data directory (the private keys are only in the key files handed out). */
export const SERVICE_ACCOUNTS_FILE = "service-accounts.json";
/** Where `esplab cloud service-account create` writes key files, inside the data directory. */
export const KEY_FILES_DIR = "service-accounts";

export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

/** A key file in Google's format (IAM → Service accounts → Keys → Add key → JSON). */
export interface ServiceAccountKeyFile {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

interface StoredKey {
  id: string;
  publicKey: string;
  /** The token_uri written into the key file: a JWT from this key may name it as its audience. */
  tokenUri: string;
  created: string;
}

/** One of an account's keys, as the token endpoint checks a JWT against it. */
export interface AccountKey {
  publicKey: crypto.KeyObject;
  tokenUri: string;
}

interface StoredAccount {
  name: string;
  clientEmail: string;
  clientId: string;
  keys: StoredKey[];
}

/** Google's rule for a service account's ID (the part before the @): 6–30 of a–z, 0–9 and '-', a letter first. */
const NAME = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/**
 * The local cloud's service accounts: each has an email `NAME@PROJECT.iam.gserviceaccount.com` and RSA keys, as on
 * Google Cloud. Like Google, it keeps only the public halves (in service-accounts.json, replaced whole on each
 * change); the private key exists only in the key file `create` returns. The file is read again when it changes, so
 * a running emulator knows an account the CLI created a moment ago.
 */
export class ServiceAccounts {
  readonly projectId: string;
  readonly #file: string | undefined;
  #accounts: StoredAccount[] = [];
  #loadedStamp = "";
  readonly #publicKeys = new Map<string, crypto.KeyObject>();

  constructor(projectId: string, dataDir?: string) {
    this.projectId = projectId;
    this.#file = dataDir ? path.join(dataDir, SERVICE_ACCOUNTS_FILE) : undefined;
    this.#reload();
  }

  /**
   * Creates the service account NAME if it does not exist, and a new key for it; returns the key file. `tokenUri` goes
   * into the file as token_uri (the local cloud's Auth address, e.g. http://127.0.0.1:9099/token).
   */
  createKey(name: string, tokenUri: string): ServiceAccountKeyFile {
    if (!NAME.test(name)) {
      throw new Error(`"${name}" is not a service account name: use 6–30 lowercase letters, digits and hyphens, starting with a letter (as Google requires), e.g. device-writer`);
    }
    this.#reload();
    const clientEmail = `${name}@${this.projectId}.iam.gserviceaccount.com`;
    let account = this.#accounts.find((a) => a.name === name);
    if (!account) {
      account = { name, clientEmail, clientId: BigInt(`0x${crypto.randomBytes(8).toString("hex")}`).toString().padStart(21, "1"), keys: [] };
      this.#accounts.push(account);
    }
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const id = crypto.randomBytes(20).toString("hex");
    account.keys.push({ id, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(), tokenUri, created: new Date().toISOString() });
    this.#save();
    return {
      type: "service_account",
      project_id: this.projectId,
      private_key_id: id,
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: clientEmail,
      client_id: account.clientId,
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: tokenUri,
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(clientEmail)}`,
      universe_domain: "googleapis.com",
    };
  }

  /** Deletes an account (by name or email) and its keys; tokens signed with them are refused from then on. */
  delete(nameOrEmail: string): boolean {
    this.#reload();
    const before = this.#accounts.length;
    this.#accounts = this.#accounts.filter((a) => a.name !== nameOrEmail && a.clientEmail !== nameOrEmail);
    if (this.#accounts.length === before) return false;
    this.#save();
    return true;
  }

  list(): { name: string; clientEmail: string; keyIds: string[] }[] {
    this.#reload();
    return this.#accounts.map((a) => ({ name: a.name, clientEmail: a.clientEmail, keyIds: a.keys.map((k) => k.id) }));
  }

  /** The keys of the account with this email, by key id; undefined if there is no such account. */
  keysOf(clientEmail: string): Map<string, AccountKey> | undefined {
    this.#reload();
    const account = this.#accounts.find((a) => a.clientEmail === clientEmail);
    if (!account) return undefined;
    const keys = new Map<string, AccountKey>();
    for (const key of account.keys) {
      let object = this.#publicKeys.get(key.id);
      if (!object) this.#publicKeys.set(key.id, (object = crypto.createPublicKey(key.publicKey)));
      keys.set(key.id, { publicKey: object, tokenUri: key.tokenUri });
    }
    return keys;
  }

  #reload(): void {
    if (!this.#file) return;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.#file);
    } catch {
      return; // none created yet
    }
    const stamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    if (stamp === this.#loadedStamp) return;
    let saved: { accounts?: unknown };
    try {
      saved = JSON.parse(fs.readFileSync(this.#file, "utf8")) as typeof saved;
      if (!saved || !Array.isArray(saved.accounts)) throw new Error("no accounts list");
    } catch (error) {
      throw new Error(`${this.#file} is not readable (${(error as Error).message}): esplab only ever replaces it whole — restore it, or move it away (every service-account key made so far then stops working)`);
    }
    this.#accounts = saved.accounts as StoredAccount[];
    this.#loadedStamp = stamp;
  }

  #save(): void {
    if (!this.#file) return;
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    writeFileAtomically(this.#file, `${JSON.stringify({ accounts: this.#accounts }, null, 2)}\n`, 0o600);
    const stat = fs.statSync(this.#file);
    this.#loadedStamp = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  }
}
