/**
 * A small Device Shadow service on top of aedes, behaving as AWS IoT documents it (device-shadow-mqtt,
 * device-shadow-document, device-shadow-error-messages): update merges desired/reported (null deletes), bumps the
 * version, answers update/accepted with the request state plus metadata, publishes update/documents
 * {previous, current} and update/delta when desired differs from reported; get answers the full document with a
 * delta or 404; errors are {code, message, timestamp, clientToken}.
 */
import type { Aedes } from "aedes";

type Json = any;

interface Shadow {
  desired: Record<string, Json>;
  reported: Record<string, Json>;
  metadata: { desired: Record<string, Json>; reported: Record<string, Json> };
  version: number;
}

export class FakeShadowService {
  readonly shadows = new Map<string, Shadow>();
  readonly requests: { topic: string; body: Json }[] = [];
  /** When true the service stays silent, as an unreachable or unauthorised one would. */
  silent = false;
  #now = 1_700_000_000;

  constructor(private readonly aedes: Aedes) {
    aedes.subscribe(
      "$aws/things/+/shadow/#",
      (packet, callback) => {
        if (!this.silent) this.#handle(packet.topic, Buffer.from(packet.payload as Buffer).toString("utf8"));
        callback();
      },
      () => undefined,
    );
  }

  /** Publishes a message as the service would (for stale/duplicate delta tests). */
  publish(topic: string, body: Json): void {
    this.aedes.publish({ cmd: "publish", topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false, messageId: 0 } as never, () => undefined);
  }

  #handle(topic: string, text: string): void {
    const match = /^\$aws\/things\/([^/]+)\/shadow\/(get|update)$/.exec(topic);
    if (!match) return;
    const [, thing, operation] = match as unknown as [string, string, "get" | "update"];
    const prefix = `$aws/things/${thing}/shadow`;
    let body: Json = {};
    if (text.length) {
      try {
        body = JSON.parse(text);
      } catch {
        return this.#reject(prefix, operation, 400, "Invalid JSON", undefined);
      }
    }
    this.requests.push({ topic, body });
    const clientToken: string | undefined = body.clientToken;
    const timestamp = ++this.#now;
    if (clientToken !== undefined && Buffer.byteLength(clientToken) > 64) return this.#reject(prefix, operation, 400, "Invalid clientToken", undefined);
    const shadow = this.shadows.get(thing);
    if (operation === "get") {
      if (!shadow) return this.#reject(prefix, "get", 404, `No shadow exists with name: '${thing}'`, clientToken);
      const delta = difference(shadow.desired, shadow.reported);
      return this.publish(`${prefix}/get/accepted`, {
        state: { desired: shadow.desired, reported: shadow.reported, ...(delta ? { delta } : {}) },
        metadata: shadow.metadata,
        version: shadow.version,
        timestamp,
        ...(clientToken !== undefined ? { clientToken } : {}),
      });
    }
    if (typeof body.state !== "object" || body.state === null) return this.#reject(prefix, "update", 400, "Missing required node: state", clientToken);
    if (Buffer.byteLength(JSON.stringify(body.state)) > 8192) return this.#reject(prefix, "update", 413, "The payload exceeds the maximum size allowed", clientToken);
    const current: Shadow = shadow ?? { desired: {}, reported: {}, metadata: { desired: {}, reported: {} }, version: 0 };
    if (body.version !== undefined && body.version !== current.version) return this.#reject(prefix, "update", 409, "Version conflict", clientToken);
    const previous = structuredClone(current);
    const metadata: Json = {};
    for (const part of ["desired", "reported"] as const) {
      if (!(part in body.state)) continue;
      const value = body.state[part];
      if (value === null) {
        current[part] = {};
        current.metadata[part] = {};
        continue;
      }
      if (typeof value !== "object") return this.#reject(prefix, "update", 400, `${part === "desired" ? "Desired" : "Reported"} node must be an object`, clientToken);
      merge(current[part], value);
      metadata[part] = stamp(value, timestamp);
      merge(current.metadata[part], metadata[part]);
    }
    current.version++;
    this.shadows.set(thing, current);
    const token = clientToken !== undefined ? { clientToken } : {};
    this.publish(`${prefix}/update/accepted`, { state: body.state, metadata, version: current.version, timestamp, ...token });
    this.publish(`${prefix}/update/documents`, {
      previous: shadow ? { state: { desired: previous.desired, reported: previous.reported }, metadata: previous.metadata, version: previous.version } : null,
      current: { state: { desired: current.desired, reported: current.reported }, metadata: current.metadata, version: current.version },
      timestamp,
      ...token,
    });
    const delta = difference(current.desired, current.reported);
    if (delta && body.state.desired) {
      this.publish(`${prefix}/update/delta`, { state: delta, metadata: stamp(delta, timestamp), version: current.version, timestamp, ...token });
    }
  }

  #reject(prefix: string, operation: string, code: number, message: string, clientToken: string | undefined): void {
    this.publish(`${prefix}/${operation}/rejected`, { code, message, timestamp: ++this.#now, ...(clientToken !== undefined ? { clientToken } : {}) });
  }
}

function merge(target: Record<string, Json>, source: Record<string, Json>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === null) delete target[key];
    else if (typeof value === "object" && !Array.isArray(value)) {
      if (typeof target[key] !== "object" || target[key] === null || Array.isArray(target[key])) target[key] = {};
      merge(target[key], value);
    } else target[key] = value;
  }
}

function stamp(value: Record<string, Json>, timestamp: number): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = child !== null && typeof child === "object" && !Array.isArray(child) ? stamp(child, timestamp) : { timestamp };
  }
  return out;
}

/** Desired keys whose value differs from reported (recursively), or undefined when none. */
function difference(desired: Record<string, Json>, reported: Record<string, Json>): Record<string, Json> | undefined {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(desired)) {
    const other = reported[key];
    if (value !== null && typeof value === "object" && !Array.isArray(value) && other !== null && typeof other === "object" && !Array.isArray(other)) {
      const inner = difference(value, other);
      if (inner) out[key] = inner;
    } else if (JSON.stringify(value) !== JSON.stringify(other)) out[key] = value;
  }
  return Object.keys(out).length ? out : undefined;
}
