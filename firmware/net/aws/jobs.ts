/**
 * AWS IoT Jobs on the device, over MQTT (AWS's jobs-mqtt-api): the device asks for its next pending job
 * (`start-next`, which marks it IN_PROGRESS), runs it with the app's handler, and reports SUCCEEDED, FAILED or
 * REJECTED with `<jobId>/update` and the execution's version (expectedVersion), then asks for the next one; a
 * `notify-next` from the service wakes it when a job arrives while idle. One job runs at a time. Requests carry a
 * clientToken matched to `/accepted` or `/rejected`; an answer that never comes is a JOBS_TIMEOUT.
 */
import { EsplabError, TimeoutError } from "../../core/errors.ts";
import { utf8Decode } from "../../core/utf8.ts";
import type { Clock, TimerHandle } from "../../ports/clock.ts";
import type { MqttClient, MqttMessage } from "../mqtt/client.ts";
import { checkThingName } from "./iot-core.ts";
import type { JsonValue } from "./shadow.ts";

export interface JobExecution {
  jobId: string;
  thingName?: string;
  jobDocument?: { [key: string]: JsonValue };
  status: string;
  statusDetails?: Record<string, string>;
  versionNumber: number;
  executionNumber?: number;
}

/** What the handler decides: SUCCEEDED, FAILED, or REJECTED (the device will not run this document). */
export interface JobOutcome {
  status: "SUCCEEDED" | "FAILED" | "REJECTED";
  statusDetails?: Record<string, string>;
}

export type JobHandler = (execution: JobExecution) => JobOutcome | Promise<JobOutcome>;

/** The Jobs service rejected a request: `serviceCode` is AWS's (InvalidStateTransition, VersionMismatch …). */
export class JobRejectedError extends EsplabError {
  readonly serviceCode: string;
  constructor(serviceCode: string, message: string) {
    super("JOB_REJECTED", message);
    this.serviceCode = serviceCode;
  }
}

export interface DeviceJobsOptions {
  client: MqttClient;
  clock: Clock;
  thingName: string;
  handler: JobHandler;
  timeoutMs?: number;
  log?: (line: string) => void;
}

interface Pending {
  resolve(body: Record<string, unknown>): void;
  reject(error: EsplabError): void;
  timer: TimerHandle;
}

export class DeviceJobs {
  readonly prefix: string;
  readonly #options: DeviceJobsOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #tokenPrefix: string;
  #counter = 0;
  #running = false;
  #again = false;
  #started: Promise<void> | undefined;
  #closed = false;

  constructor(options: DeviceJobsOptions) {
    checkThingName(options.thingName);
    this.#options = options;
    this.prefix = `$aws/things/${options.thingName}/jobs`;
    this.#tokenPrefix = `${options.client.clientId.slice(0, 32)}-${Math.floor(Math.random() * 36 ** 6).toString(36)}`;
  }

  /** Subscribes to the answers and notifications, then works through the pending jobs. Idempotent. */
  start(): Promise<void> {
    this.#started ??= this.#options.client
      .subscribeMany(
        ["notify-next", "start-next/accepted", "start-next/rejected", "+/update/accepted", "+/update/rejected"].map((suffix) => ({
          filter: `${this.prefix}/${suffix}`,
          qos: 1 as const,
          handler: (message: MqttMessage) => this.#onMessage(message),
        })),
      )
      .then((results) => {
        const refused = results.filter((r) => r.error);
        if (refused.length) {
          this.#started = undefined;
          throw new EsplabError("JOBS_SUBSCRIBE_REFUSED", `the broker refused ${refused.map((r) => r.filter).join(", ")}; the IoT policy must allow the jobs topics of ${this.#options.thingName}`);
        }
        this.#work();
      });
    return this.#started;
  }

  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      this.#options.clock.clear(pending.timer);
      pending.reject(new EsplabError("JOBS_CLOSED", "jobs request abandoned: the jobs helper was closed"));
    }
    this.#pending.clear();
  }

  /** Runs jobs until none is pending; a call while running makes it look once more afterwards. */
  #work(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#again = false;
    this.#next()
      .catch((error: EsplabError) => this.#options.log?.(`jobs: ${error.message}`))
      .then(() => {
        this.#running = false;
        if (this.#again) this.#work();
      });
  }

  async #next(): Promise<void> {
    for (;;) {
      const answer = await this.#request("start-next", {});
      const execution = answer.execution as JobExecution | undefined;
      if (!execution) return;
      let outcome: JobOutcome;
      try {
        outcome = await this.#options.handler(execution);
      } catch (error) {
        outcome = { status: "FAILED", statusDetails: { error: String((error as Error).message ?? error).slice(0, 200) } };
      }
      this.#options.log?.(`jobs: ${execution.jobId} ${outcome.status}`);
      await this.#request(`${execution.jobId}/update`, {
        status: outcome.status,
        ...(outcome.statusDetails ? { statusDetails: outcome.statusDetails } : {}),
        expectedVersion: execution.versionNumber,
      });
    }
  }

  #request(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    const clientToken = `${this.#tokenPrefix}-${++this.#counter}`.slice(-64);
    return new Promise((resolve, reject) => {
      const timer = this.#options.clock.setTimeout(() => {
        this.#pending.delete(clientToken);
        reject(new TimeoutError("JOBS_TIMEOUT", `no answer to jobs ${operation} of ${this.#options.thingName} within ${timeoutMs} ms; check the connection and the policy`));
      }, timeoutMs);
      this.#pending.set(clientToken, { resolve, reject, timer });
      this.#options.client.publish(`${this.prefix}/${operation}`, JSON.stringify({ ...body, clientToken }), { qos: 1 }).catch((error: unknown) => {
        if (error instanceof EsplabError && error.code === "CLOSED") return; // queued until the link is back
        this.#options.clock.clear(timer);
        this.#pending.delete(clientToken);
        reject(error instanceof EsplabError ? error : new EsplabError("JOBS_PUBLISH_FAILED", String(error)));
      });
    });
  }

  #onMessage(message: MqttMessage): void {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(utf8Decode(message.payload));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return;
      body = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    if (message.topic.endsWith("/notify-next")) {
      if (body.execution) this.#work();
      return;
    }
    const token = typeof body.clientToken === "string" ? body.clientToken : undefined;
    const pending = token !== undefined ? this.#pending.get(token) : undefined;
    if (!pending) return;
    this.#options.clock.clear(pending.timer);
    this.#pending.delete(token!);
    if (message.topic.endsWith("/accepted")) pending.resolve(body);
    else {
      const code = typeof body.code === "string" ? body.code : "Unknown";
      pending.reject(new JobRejectedError(code, `jobs request of ${this.#options.thingName} rejected: ${code} ${typeof body.message === "string" ? body.message : ""}`.trim()));
    }
  }
}
