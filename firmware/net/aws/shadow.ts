/**
 * AWS IoT Device Shadow over MQTT: get, update (reported or desired), delta and documents notifications. Requests
 * carry a clientToken and are matched to `/accepted` or `/rejected` by it; the shadow's version is tracked so stale
 * deltas (delivered late or twice by QoS 1) are ignored. A `null` value deletes a key. The state document is limited
 * to 8 KB and 6 levels of nesting, and AWS allows 10 requests in flight per connection: all checked before sending.
 *
 * Topics (classic shadow; a named one inserts `/name/<shadowName>`): `$aws/things/<thing>/shadow/` + `get`,
 * `get/accepted`, `get/rejected`, `update`, `update/accepted`, `update/rejected`, `update/delta`, `update/documents`.
 */
import { EsplabError, TimeoutError, UsageError } from "../../core/errors.ts";
import { utf8Decode, utf8Length } from "../../core/utf8.ts";
import type { Clock, TimerHandle } from "../../ports/clock.ts";
import type { MqttClient, MqttMessage } from "../mqtt/client.ts";
import { checkThingName } from "./iot-core.ts";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type ShadowState = { [key: string]: JsonValue };

export interface ShadowDocument {
  state: { desired?: ShadowState; reported?: ShadowState; delta?: ShadowState };
  metadata?: { desired?: JsonValue; reported?: JsonValue };
  version: number;
  timestamp: number;
  clientToken?: string;
}

export interface ShadowDelta {
  state: ShadowState;
  metadata?: JsonValue;
  version: number;
  timestamp: number;
  clientToken?: string;
}

export interface ShadowDocuments {
  previous: { state: ShadowDocument["state"]; metadata?: JsonValue; version: number } | null;
  current: { state: ShadowDocument["state"]; metadata?: JsonValue; version: number };
  timestamp: number;
  clientToken?: string;
}

/** The shadow service rejected a request: `status` is its HTTP-style code (400, 404, 409, 413, 429 …). */
export class ShadowRejectedError extends EsplabError {
  readonly status: number;
  readonly serviceMessage: string;
  constructor(status: number, serviceMessage: string, message: string) {
    super(`SHADOW_${status}`, message);
    this.status = status;
    this.serviceMessage = serviceMessage;
  }
}

export const SHADOW_STATE_LIMIT = 8 * 1024;
export const SHADOW_MAX_DEPTH = 6;
export const SHADOW_MAX_IN_FLIGHT = 10;
const CLIENT_TOKEN_LIMIT = 64;

export interface DeviceShadowOptions {
  client: MqttClient;
  clock: Clock;
  thingName: string;
  /** A named shadow; omit for the classic one. */
  shadowName?: string;
  /** How long to wait for accepted/rejected. Default 10 s. */
  timeoutMs?: number;
  /** Prefix of client tokens. Default: the MQTT client id and a random per-instance nonce, so tokens stay unique
   * across clients of one thing and across reboots (an answer to a request from before a reboot matches nothing). */
  tokenPrefix?: string;
}

interface Pending {
  operation: "get" | "update";
  resolve(document: ShadowDocument): void;
  reject(error: EsplabError): void;
  timer: TimerHandle;
}

const REMEDIES: Record<number, string> = Object.freeze({
  400: "the request document is malformed — check that state holds desired/reported objects",
  401: "the connection is not authorised — check the certificate's policy",
  403: "the policy does not allow this shadow operation — allow iot:UpdateThingShadow / iot:GetThingShadow on this thing",
  404: "the shadow does not exist yet — update it once to create it",
  409: "the shadow changed since the version given — get it again and retry with the new version",
  413: "the document is larger than the service accepts — report less state",
  429: "too many shadow requests in flight — wait for answers before sending more",
  500: "the shadow service failed — retry later",
});

export class DeviceShadow {
  readonly thingName: string;
  readonly shadowName: string | undefined;
  readonly prefix: string;
  readonly #client: MqttClient;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #tokenPrefix: string;
  readonly #pending = new Map<string, Pending>();
  readonly #deltaHandlers = new Set<(delta: ShadowDelta) => void>();
  readonly #documentHandlers = new Set<(documents: ShadowDocuments) => void>();
  #counter = 0;
  #version: number | undefined;
  /** Version of the last delta handed on: documents and accepted answers may carry the same version first. */
  #deltaVersion = -1;
  #started: Promise<void> | undefined;

  constructor(options: DeviceShadowOptions) {
    checkThingName(options.thingName);
    if (options.shadowName !== undefined && !/^[a-zA-Z0-9:_-]{1,64}$/.test(options.shadowName)) {
      throw new UsageError("BAD_SHADOW_NAME", `shadow name ${JSON.stringify(options.shadowName)} must be 1–64 characters of a-z, A-Z, 0-9, ':', '_' and '-'`);
    }
    this.thingName = options.thingName;
    this.shadowName = options.shadowName;
    this.prefix = `$aws/things/${options.thingName}/shadow${options.shadowName ? `/name/${options.shadowName}` : ""}`;
    this.#client = options.client;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#tokenPrefix = (options.tokenPrefix ?? `${options.client.clientId.slice(0, 32)}-${Math.floor(Math.random() * 36 ** 6).toString(36)}`).slice(0, 48);
  }

  /** The latest shadow version seen (accepted, delta or documents), undefined before any. */
  get version(): number | undefined {
    return this.#version;
  }

  /** Subscribes to the response and notification topics (one SUBSCRIBE of six filters). Idempotent. */
  start(): Promise<void> {
    this.#started ??= this.#client
      .subscribeMany(
        ["get/accepted", "get/rejected", "update/accepted", "update/rejected", "update/delta", "update/documents"].map((suffix) => ({
          filter: `${this.prefix}/${suffix}`,
          qos: 1 as const,
          handler: (message: MqttMessage) => this.#onMessage(suffix, message),
        })),
      )
      .then((results) => {
        const refused = results.filter((r) => r.error);
        if (refused.length) {
          this.#started = undefined;
          throw new EsplabError(
            "SHADOW_SUBSCRIBE_REFUSED",
            `the broker refused ${refused.map((r) => r.filter).join(", ")}; the IoT policy must allow iot:Subscribe and iot:Receive on the shadow topics of ${this.thingName}`,
          );
        }
      });
    return this.#started;
  }

  /** Calls `handler` for each delta newer than the version already seen. Returns a function that removes it. */
  onDelta(handler: (delta: ShadowDelta) => void): () => void {
    this.#deltaHandlers.add(handler);
    return () => this.#deltaHandlers.delete(handler);
  }

  onDocuments(handler: (documents: ShadowDocuments) => void): () => void {
    this.#documentHandlers.add(handler);
    return () => this.#documentHandlers.delete(handler);
  }

  /** The whole shadow (desired, reported, delta, metadata, version). Rejects with ShadowRejectedError 404 if none. */
  async get(): Promise<ShadowDocument> {
    await this.start();
    return this.#request("get", {});
  }

  /** Reports device state; `null` deletes a key. With `version`, the update applies only to that version (409 else). */
  async updateReported(reported: ShadowState, options: { version?: number } = {}): Promise<ShadowDocument> {
    return this.#update({ reported }, options.version);
  }

  /** Asks the device for a state (what an app or the cloud does); `null` deletes a key. */
  async updateDesired(desired: ShadowState | null, options: { version?: number } = {}): Promise<ShadowDocument> {
    return this.#update({ desired: desired as ShadowState }, options.version);
  }

  /** Reports state and clears the matching desired keys in one update, the usual answer to a delta. */
  async acknowledgeDelta(reported: ShadowState, options: { version?: number } = {}): Promise<ShadowDocument> {
    const desired: ShadowState = {};
    for (const key of Object.keys(reported)) desired[key] = null;
    return this.#update({ reported, desired }, options.version);
  }

  /** Rejects every request still waiting (the shadow is no longer used). */
  close(): void {
    for (const [token, pending] of this.#pending) {
      this.#clock.clear(pending.timer);
      pending.reject(new EsplabError("SHADOW_CLOSED", `shadow request ${token} abandoned: the shadow helper was closed`));
    }
    this.#pending.clear();
  }

  async #update(state: ShadowDocument["state"], version: number | undefined): Promise<ShadowDocument> {
    const stateJson = JSON.stringify(state);
    const size = utf8Length(stateJson);
    if (size > SHADOW_STATE_LIMIT) {
      throw new UsageError("STATE_TOO_LARGE", `the shadow state is ${size} bytes of JSON; AWS IoT accepts at most ${SHADOW_STATE_LIMIT}: report fewer or shorter keys, or split them into named shadows`);
    }
    const depth = nesting(state);
    if (depth > SHADOW_MAX_DEPTH + 1) {
      throw new UsageError("STATE_TOO_DEEP", `the shadow state nests ${depth - 1} levels below desired/reported; AWS IoT allows ${SHADOW_MAX_DEPTH}: flatten it`);
    }
    if (version !== undefined && (!Number.isInteger(version) || version < 0)) {
      throw new UsageError("BAD_VERSION", `version must be a whole number ≥ 0; got ${version}`);
    }
    await this.start();
    return this.#request("update", version === undefined ? { state } : { state, version });
  }

  #request(operation: "get" | "update", body: Record<string, unknown>): Promise<ShadowDocument> {
    if (this.#pending.size >= SHADOW_MAX_IN_FLIGHT) {
      return Promise.reject(
        new UsageError("TOO_MANY_REQUESTS", `${SHADOW_MAX_IN_FLIGHT} shadow requests are already waiting for an answer (AWS IoT's limit per connection); await them before sending more`),
      );
    }
    const clientToken = `${this.#tokenPrefix}-${++this.#counter}`.slice(-CLIENT_TOKEN_LIMIT);
    return new Promise<ShadowDocument>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(clientToken);
        reject(new TimeoutError("SHADOW_TIMEOUT", `no answer to shadow ${operation} ${clientToken} of ${this.thingName} within ${this.#timeoutMs} ms; check the connection and that the policy allows the shadow topics`));
      }, this.#timeoutMs);
      this.#pending.set(clientToken, { operation, resolve, reject, timer });
      this.#client.publish(`${this.prefix}/${operation}`, JSON.stringify({ ...body, clientToken }), { qos: 1 }).catch((error: unknown) => {
        // the request stays queued if the link dropped; only a refusal to queue it ends it here
        if (error instanceof EsplabError && error.code === "CLOSED") return;
        const pending = this.#pending.get(clientToken);
        if (!pending) return;
        this.#clock.clear(pending.timer);
        this.#pending.delete(clientToken);
        reject(error instanceof EsplabError ? error : new EsplabError("SHADOW_PUBLISH_FAILED", String(error)));
      });
    });
  }

  #onMessage(suffix: string, message: MqttMessage): void {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(utf8Decode(message.payload));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      body = parsed as Record<string, unknown>;
    } catch {
      return; // not a shadow document: nothing to match it to
    }
    const token = typeof body.clientToken === "string" ? body.clientToken : undefined;
    switch (suffix) {
      case "get/accepted":
      case "update/accepted": {
        this.#noteVersion(body.version);
        // a full document already carries any delta up to its version
        if (suffix === "get/accepted" && typeof body.version === "number") this.#deltaVersion = Math.max(this.#deltaVersion, body.version);
        const pending = token !== undefined ? this.#pending.get(token) : undefined;
        if (pending && suffix.startsWith(pending.operation)) this.#settle(token!, pending, () => pending.resolve(body as unknown as ShadowDocument));
        return;
      }
      case "get/rejected":
      case "update/rejected": {
        const pending = token !== undefined ? this.#pending.get(token) : undefined;
        if (!pending || !suffix.startsWith(pending.operation)) return;
        const status = typeof body.code === "number" ? body.code : 0;
        const serviceMessage = typeof body.message === "string" ? body.message : "";
        const remedy = REMEDIES[status] ?? "see the AWS IoT Device Shadow error messages";
        this.#settle(token!, pending, () =>
          pending.reject(new ShadowRejectedError(status, serviceMessage, `shadow ${pending.operation} of ${this.thingName} rejected with ${status} "${serviceMessage}": ${remedy}`)),
        );
        return;
      }
      case "update/delta": {
        const version = typeof body.version === "number" ? body.version : undefined;
        if (version === undefined || version <= this.#deltaVersion) return; // stale or repeated
        this.#deltaVersion = version;
        this.#noteVersion(version);
        for (const handler of this.#deltaHandlers) handler(body as unknown as ShadowDelta);
        return;
      }
      case "update/documents": {
        const current = body.current as { version?: unknown } | undefined;
        this.#noteVersion(current?.version);
        for (const handler of this.#documentHandlers) handler(body as unknown as ShadowDocuments);
        return;
      }
      default:
    }
  }

  #settle(token: string, pending: Pending, settle: () => void): void {
    this.#clock.clear(pending.timer);
    this.#pending.delete(token);
    settle();
  }

  #noteVersion(version: unknown): void {
    if (typeof version === "number" && (this.#version === undefined || version > this.#version)) this.#version = version;
  }
}

function nesting(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, nesting(child));
  return deepest + 1;
}
