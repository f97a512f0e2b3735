/**
 * The Device Shadow service of the local AWS IoT Core, on the broker's own bus, as AWS documents it
 * (device-shadow-mqtt, device-shadow-document, device-shadow-data-flow, device-shadow-error-messages):
 * classic shadows on `$aws/things/<thing>/shadow/…` and named ones on `$aws/things/<thing>/shadow/name/<name>/…`,
 * each with get, update and delete. An update merges desired/reported (null deletes a key, a null section clears
 * it), bumps the version, answers update/accepted with the request's state and its metadata, publishes
 * update/documents {previous, current} and update/delta when desired differs from reported. A deleted shadow keeps
 * counting its version when it is made again (AWS does so for 48 hours). Errors are {code, message, timestamp,
 * clientToken}. Limits: state ≤ 8 KB, ≤ 6 levels below desired/reported, clientToken ≤ 64 bytes, shadow name ≤ 64.
 */
import fs from "node:fs";
import type { Aedes } from "aedes";
import { writeFileAtomically } from "../firebase/atomic-file.ts";

type Json = any;
type Section = Record<string, Json>;

interface Shadow {
  desired: Section;
  reported: Section;
  metadata: { desired: Section; reported: Section };
  version: number;
  /** Deleted shadows stay as tombstones so a shadow made again continues the version. */
  deleted?: boolean;
}

export const SHADOW_STATE_MAX_BYTES = 8 * 1024;
export const SHADOW_MAX_DEPTH = 6;

const REQUEST = /^\$aws\/things\/([^/]+)\/shadow\/(?:name\/([^/]+)\/)?(get|update|delete)$/;

export interface ShadowServiceOptions {
  /** Epoch milliseconds (the cloud's clock). */
  now?: () => number;
  /** Where the shadows are kept across restarts; in memory without. */
  file?: string;
  log?: (line: string) => void;
  /** Sees every request the service takes (the lab's activity feed, tests). */
  onRequest?: (request: { topic: string; thing: string; shadow: string; operation: string; body: Json }) => void;
}

export class ShadowService {
  readonly #aedes: Aedes;
  readonly #options: ShadowServiceOptions;
  readonly #shadows = new Map<string, Shadow>();
  readonly #listener = (packet: { topic: string; payload: unknown }, callback: () => void) => {
    this.#handle(packet.topic, Buffer.from(packet.payload as Buffer).toString("utf8"));
    callback();
  };

  constructor(aedes: Aedes, options: ShadowServiceOptions = {}) {
    this.#aedes = aedes;
    this.#options = options;
    if (options.file && fs.existsSync(options.file)) {
      for (const [key, shadow] of Object.entries(JSON.parse(fs.readFileSync(options.file, "utf8")) as Record<string, Shadow>)) this.#shadows.set(key, shadow);
    }
    aedes.subscribe("$aws/things/+/shadow/#", this.#listener, () => undefined);
  }

  /** The shadow's document as get would answer it, or undefined when there is none. */
  document(thing: string, shadowName = ""): { state: { desired: Section; reported: Section; delta?: Section }; metadata: Shadow["metadata"]; version: number } | undefined {
    const shadow = this.#shadows.get(key(thing, shadowName));
    if (!shadow || shadow.deleted) return undefined;
    const delta = difference(shadow.desired, shadow.reported);
    return { state: { desired: shadow.desired, reported: shadow.reported, ...(delta ? { delta } : {}) }, metadata: shadow.metadata, version: shadow.version };
  }

  /** Publishes as the service (QoS 1, not retained). */
  publish(topic: string, body: Json): void {
    this.#aedes.publish({ cmd: "publish", topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false } as never, () => undefined);
  }

  close(): void {
    this.#aedes.unsubscribe("$aws/things/+/shadow/#", this.#listener as never, () => undefined);
  }

  #handle(topic: string, text: string): void {
    const match = REQUEST.exec(topic);
    if (!match) return;
    const [, thing, shadowName = "", operation] = match as unknown as [string, string, string | undefined, "get" | "update" | "delete"];
    const prefix = shadowName ? `$aws/things/${thing}/shadow/name/${shadowName}` : `$aws/things/${thing}/shadow`;
    const reject = (code: number, message: string, clientToken?: string) =>
      this.publish(`${prefix}/${operation}/rejected`, { code, message, timestamp: this.#timestamp(), ...(clientToken !== undefined ? { clientToken } : {}) });
    let body: Json = {};
    if (text.trim().length) {
      try {
        body = JSON.parse(text);
      } catch {
        return reject(400, "Invalid JSON");
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) return reject(400, "Invalid JSON");
    }
    this.#options.onRequest?.({ topic, thing, shadow: shadowName, operation, body });
    const clientToken: string | undefined = typeof body.clientToken === "string" ? body.clientToken : undefined;
    if (clientToken !== undefined && Buffer.byteLength(clientToken) > 64) return reject(400, "Invalid clientToken");
    if (shadowName.length > 64 || !/^[a-zA-Z0-9:_-]+$/.test(shadowName || "x")) return reject(400, "Invalid shadow name", clientToken);
    const token = clientToken !== undefined ? { clientToken } : {};
    const id = key(thing, shadowName);
    const existing = this.#shadows.get(id);
    const live = existing && !existing.deleted ? existing : undefined;
    const timestamp = this.#timestamp();
    const missing = () => reject(404, `No shadow exists with name: '${shadowName ? `${thing}~${shadowName}` : thing}'`, clientToken);

    if (operation === "get") {
      if (!live) return missing();
      return this.publish(`${prefix}/get/accepted`, { ...this.document(thing, shadowName), timestamp, ...token });
    }
    if (operation === "delete") {
      if (!live) return missing();
      this.#shadows.set(id, { desired: {}, reported: {}, metadata: { desired: {}, reported: {} }, version: live.version, deleted: true });
      this.#save();
      this.#options.log?.(`iot: shadow ${describe(thing, shadowName)} deleted at version ${live.version}`);
      return this.publish(`${prefix}/delete/accepted`, { version: live.version, timestamp, ...token });
    }

    if (typeof body.state !== "object" || body.state === null || Array.isArray(body.state)) return reject(400, "Missing required node: state", clientToken);
    if (Buffer.byteLength(JSON.stringify(body.state)) > SHADOW_STATE_MAX_BYTES) return reject(413, "The payload exceeds the maximum size allowed", clientToken);
    for (const part of ["desired", "reported"] as const) {
      const value = body.state[part];
      if (value !== undefined && value !== null && (typeof value !== "object" || Array.isArray(value))) {
        return reject(400, `${part === "desired" ? "Desired" : "Reported"} node must be an object`, clientToken);
      }
      if (value && depth(value) > SHADOW_MAX_DEPTH) return reject(400, `JSON contains too many levels of nesting; maximum is ${SHADOW_MAX_DEPTH}`, clientToken);
    }
    const version = existing?.version ?? 0;
    if (body.version !== undefined && body.version !== version) return reject(409, "Version conflict", clientToken);
    const current: Shadow = live ? structuredClone(live) : { desired: {}, reported: {}, metadata: { desired: {}, reported: {} }, version };
    const metadata: Json = {};
    for (const part of ["desired", "reported"] as const) {
      if (!(part in body.state)) continue;
      const value = body.state[part];
      if (value === null) {
        current[part] = {};
        current.metadata[part] = {};
        continue;
      }
      merge(current[part], value);
      metadata[part] = stamp(value, timestamp);
      merge(current.metadata[part], metadata[part]);
      prune(current.metadata[part], current[part]);
    }
    current.version++;
    this.#shadows.set(id, current);
    this.#save();
    this.publish(`${prefix}/update/accepted`, { state: body.state, metadata, version: current.version, timestamp, ...token });
    this.publish(`${prefix}/update/documents`, {
      previous: live ? { state: { desired: live.desired, reported: live.reported }, metadata: live.metadata, version: live.version } : null,
      current: { state: { desired: current.desired, reported: current.reported }, metadata: current.metadata, version: current.version },
      timestamp,
      ...token,
    });
    const delta = difference(current.desired, current.reported);
    if (delta && body.state.desired) {
      this.publish(`${prefix}/update/delta`, { state: delta, metadata: stamp(delta, timestamp), version: current.version, timestamp, ...token });
    }
  }

  #timestamp(): number {
    return Math.floor((this.#options.now?.() ?? Date.now()) / 1000);
  }

  #save(): void {
    if (this.#options.file) writeFileAtomically(this.#options.file, JSON.stringify(Object.fromEntries(this.#shadows)));
  }
}

function key(thing: string, shadowName: string): string {
  return shadowName ? `${thing}~${shadowName}` : thing;
}

function describe(thing: string, shadowName: string): string {
  return shadowName ? `"${shadowName}" of ${thing}` : `of ${thing}`;
}

function merge(target: Section, source: Section): void {
  for (const [name, value] of Object.entries(source)) {
    if (value === null) delete target[name];
    else if (typeof value === "object" && !Array.isArray(value)) {
      if (typeof target[name] !== "object" || target[name] === null || Array.isArray(target[name])) target[name] = {};
      merge(target[name], value);
    } else target[name] = value;
  }
}

/** Drops metadata for keys the state no longer has. */
function prune(metadata: Section, state: Section): void {
  for (const name of Object.keys(metadata)) {
    if (!(name in state)) delete metadata[name];
    else if (isObject(state[name]) && isObject(metadata[name]) && !("timestamp" in metadata[name])) prune(metadata[name], state[name]);
  }
}

function stamp(value: Section, timestamp: number): Section {
  const out: Section = {};
  for (const [name, child] of Object.entries(value)) out[name] = isObject(child) ? stamp(child, timestamp) : { timestamp };
  return out;
}

function depth(value: Json): number {
  return isObject(value) ? 1 + Math.max(0, ...Object.values(value).map(depth)) : 0;
}

function isObject(value: Json): value is Section {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Desired keys whose value differs from reported (recursively), or undefined when none. */
function difference(desired: Section, reported: Section): Section | undefined {
  const out: Section = {};
  for (const [name, value] of Object.entries(desired)) {
    const other = reported[name];
    if (isObject(value) && isObject(other)) {
      const inner = difference(value, other);
      if (inner) out[name] = inner;
    } else if (JSON.stringify(value) !== JSON.stringify(other)) out[name] = value;
  }
  return Object.keys(out).length ? out : undefined;
}
