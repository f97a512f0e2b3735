/**
 * The Jobs service of the local AWS IoT Core, on the broker's bus, as AWS documents its device side (jobs-mqtt-api,
 * jobs-comm-notifications, jobs-api): a job is a JSON document sent to a list of things; each thing gets an execution
 * (QUEUED → IN_PROGRESS → SUCCEEDED | FAILED | REJECTED, or CANCELED from the cloud) and works through them on
 * `$aws/things/<thing>/jobs/…`: get, start-next, <jobId>/get, <jobId>/update (with expectedVersion), and the
 * notify (list of pending executions) and notify-next (the next one changed) notifications. Times are epoch seconds.
 * Jobs made by another process (`esplab iot create-job` beside `esplab iot start`) arrive through the inbox directory.
 */
import fs from "node:fs";
import path from "node:path";
import type { Aedes } from "aedes";
import { UsageError } from "../../../firmware/core/errors.ts";
import { writeFileAtomically } from "../firebase/atomic-file.ts";

type Json = any;

export type JobExecutionStatus = "QUEUED" | "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "REJECTED" | "REMOVED" | "CANCELED";

const TERMINAL = new Set<JobExecutionStatus>(["SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"]);
const DEVICE_STATUSES = new Set<JobExecutionStatus>(["IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"]);
export const JOB_DOCUMENT_MAX_BYTES = 32 * 1024;

export interface JobExecution {
  jobId: string;
  thingName: string;
  status: JobExecutionStatus;
  statusDetails?: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
}

export interface Job {
  jobId: string;
  document: Json;
  targets: string[];
  createdAt: number;
  status: "IN_PROGRESS" | "COMPLETED" | "CANCELED";
}

interface JobsFile {
  jobs: Record<string, Job>;
  executions: JobExecution[];
}

const REQUEST = /^\$aws\/things\/([^/]+)\/jobs\/(?:(get|start-next)|([^/]+)\/(get|update))$/;

export interface JobsServiceOptions {
  now?: () => number;
  /** Directory for jobs.json and the inbox/ of jobs made by other processes; in memory without. */
  dir?: string;
  log?: (line: string) => void;
}

export class JobsService {
  readonly #aedes: Aedes;
  readonly #options: JobsServiceOptions;
  #state: JobsFile = { jobs: {}, executions: [] };
  readonly #inboxTimer: ReturnType<typeof setInterval> | undefined;
  readonly #listener = (packet: { topic: string; payload: unknown }, callback: () => void) => {
    this.#handle(packet.topic, Buffer.from(packet.payload as Buffer).toString("utf8"));
    callback();
  };

  constructor(aedes: Aedes, options: JobsServiceOptions = {}) {
    this.#aedes = aedes;
    this.#options = options;
    if (options.dir) {
      const file = path.join(options.dir, "jobs.json");
      if (fs.existsSync(file)) this.#state = JSON.parse(fs.readFileSync(file, "utf8")) as JobsFile;
      this.#inboxTimer = setInterval(() => this.#drainInbox(), 500);
      this.#inboxTimer.unref();
    }
    aedes.subscribe("$aws/things/+/jobs/#", this.#listener, () => undefined);
  }

  /** Creates a job for the things (AWS's CreateJob with a snapshot target list); notifies each thing. */
  createJob(jobId: string, targets: string[], document: Json): Job {
    checkJob(jobId, targets, document);
    if (this.#state.jobs[jobId]) throw new UsageError("job-exists", `job ${jobId} exists; job ids are unique (as in AWS): choose another`);
    const now = this.#timestamp();
    const job: Job = { jobId, document, targets: [...new Set(targets)], createdAt: now, status: "IN_PROGRESS" };
    this.#state.jobs[jobId] = job;
    const before = new Map(job.targets.map((thing) => [thing, this.#next(thing)?.jobId]));
    for (const thingName of job.targets) {
      this.#state.executions.push({ jobId, thingName, status: "QUEUED", queuedAt: now, lastUpdatedAt: now, versionNumber: 1, executionNumber: 1 });
    }
    this.#save();
    this.#options.log?.(`iot: job ${jobId} queued for ${job.targets.join(", ")}`);
    for (const thing of job.targets) this.#notify(thing, before.get(thing));
    return job;
  }

  /** Cancels a job: its executions that have not finished become CANCELED. */
  cancelJob(jobId: string): void {
    const job = this.#state.jobs[jobId];
    if (!job) throw new UsageError("unknown-job", `no job ${jobId}; jobs: ${Object.keys(this.#state.jobs).join(", ") || "none"}`);
    job.status = "CANCELED";
    const now = this.#timestamp();
    for (const execution of this.#state.executions.filter((e) => e.jobId === jobId && !TERMINAL.has(e.status))) {
      const before = this.#next(execution.thingName)?.jobId;
      Object.assign(execution, { status: "CANCELED", lastUpdatedAt: now, versionNumber: execution.versionNumber + 1 });
      this.#notify(execution.thingName, before);
    }
    this.#save();
  }

  jobs(): { job: Job; executions: JobExecution[] }[] {
    return Object.values(this.#state.jobs).map((job) => ({ job, executions: this.#state.executions.filter((e) => e.jobId === job.jobId) }));
  }

  close(): void {
    if (this.#inboxTimer) clearInterval(this.#inboxTimer);
    this.#aedes.unsubscribe("$aws/things/+/jobs/#", this.#listener as never, () => undefined);
  }

  #handle(topic: string, text: string): void {
    const match = REQUEST.exec(topic);
    if (!match) return;
    const [, thing, listOperation, jobId, jobOperation] = match as unknown as [string, string, string | undefined, string | undefined, string | undefined];
    const operation = listOperation ?? jobOperation!;
    const base = `$aws/things/${thing}/jobs/${jobId ? `${jobId}/` : ""}${operation}`;
    if (jobId === "notify" || jobId === "notify-next") return;
    let body: Json = {};
    if (text.trim().length) {
      try {
        body = JSON.parse(text);
      } catch {
        return this.#reject(base, "InvalidJson", "the request is not valid JSON", undefined);
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) return this.#reject(base, "InvalidJson", "the request must be a JSON object", undefined);
    }
    const clientToken: string | undefined = typeof body.clientToken === "string" ? body.clientToken : undefined;
    const token = clientToken !== undefined ? { clientToken } : {};
    const timestamp = this.#timestamp();
    const pending = this.#pending(thing);

    if (operation === "get" && !jobId) {
      return this.#publish(`${base}/accepted`, {
        inProgressJobs: pending.filter((e) => e.status === "IN_PROGRESS").map(summary),
        queuedJobs: pending.filter((e) => e.status === "QUEUED").map(summary),
        timestamp,
        ...token,
      });
    }
    if (operation === "start-next") {
      const next = pending[0];
      if (!next) return this.#publish(`${base}/accepted`, { timestamp, ...token });
      const before = next.jobId;
      if (next.status === "QUEUED") {
        Object.assign(next, { status: "IN_PROGRESS", startedAt: timestamp, lastUpdatedAt: timestamp, versionNumber: next.versionNumber + 1 });
        if (isDetails(body.statusDetails)) next.statusDetails = body.statusDetails;
        this.#save();
        this.#notify(thing, before);
      }
      return this.#publish(`${base}/accepted`, { execution: this.#execution(next), timestamp, ...token });
    }
    const execution = jobId === "$next" ? pending[0] : this.#state.executions.find((e) => e.thingName === thing && e.jobId === jobId);
    if (!execution) return this.#reject(base, "ResourceNotFound", `no job execution ${jobId} for ${thing}`, clientToken);
    if (operation === "get") return this.#publish(`${base}/accepted`, { execution: this.#execution(execution, body.includeJobDocument !== false), timestamp, ...token });

    // update
    const state = () => ({ executionState: { status: execution.status, ...(execution.statusDetails ? { statusDetails: execution.statusDetails } : {}), versionNumber: execution.versionNumber } });
    if (!DEVICE_STATUSES.has(body.status)) return this.#reject(base, "InvalidRequest", `status must be one of ${[...DEVICE_STATUSES].join(", ")}`, clientToken);
    if (body.statusDetails !== undefined && !isDetails(body.statusDetails)) return this.#reject(base, "InvalidRequest", "statusDetails must map names to strings", clientToken);
    if (body.expectedVersion !== undefined && body.expectedVersion !== execution.versionNumber) {
      return this.#reject(base, "VersionMismatch", `expectedVersion ${body.expectedVersion} is not the execution's version ${execution.versionNumber}`, clientToken, state());
    }
    if (TERMINAL.has(execution.status)) {
      return this.#reject(base, "InvalidStateTransition", `the execution is ${execution.status}, which is final`, clientToken, state());
    }
    const before = this.#next(thing)?.jobId;
    Object.assign(execution, {
      status: body.status,
      lastUpdatedAt: timestamp,
      versionNumber: execution.versionNumber + 1,
      ...(execution.startedAt === undefined ? { startedAt: timestamp } : {}),
      ...(body.statusDetails ? { statusDetails: body.statusDetails } : {}),
    });
    this.#completeJobIfDone(execution.jobId);
    this.#save();
    this.#options.log?.(`iot: job ${execution.jobId} on ${thing}: ${execution.status}`);
    this.#publish(`${base}/accepted`, {
      ...(body.includeJobExecutionState ? state() : {}),
      ...(body.includeJobDocument ? { jobDocument: this.#state.jobs[execution.jobId]?.document } : {}),
      timestamp,
      ...token,
    });
    this.#notify(thing, before);
  }

  #completeJobIfDone(jobId: string): void {
    const job = this.#state.jobs[jobId];
    if (job && job.status === "IN_PROGRESS" && this.#state.executions.every((e) => e.jobId !== jobId || TERMINAL.has(e.status))) job.status = "COMPLETED";
  }

  /** Pending executions of a thing: IN_PROGRESS before QUEUED, then by the time queued (as AWS orders them). */
  #pending(thing: string): JobExecution[] {
    return this.#state.executions
      .filter((e) => e.thingName === thing && !TERMINAL.has(e.status))
      .sort((a, b) => (a.status === b.status ? a.queuedAt - b.queuedAt : a.status === "IN_PROGRESS" ? -1 : 1));
  }

  #next(thing: string): JobExecution | undefined {
    return this.#pending(thing)[0];
  }

  /** notify always (the pending list changed); notify-next when the first pending execution is another one. */
  #notify(thing: string, nextBefore: string | undefined): void {
    const pending = this.#pending(thing);
    const timestamp = this.#timestamp();
    const jobs: Record<string, Json[]> = {};
    for (const status of ["IN_PROGRESS", "QUEUED"] as const) {
      const list = pending.filter((e) => e.status === status).slice(0, 15).map(summary);
      if (list.length) jobs[status] = list;
    }
    this.#publish(`$aws/things/${thing}/jobs/notify`, { timestamp, jobs });
    if (pending[0]?.jobId !== nextBefore) {
      this.#publish(`$aws/things/${thing}/jobs/notify-next`, { timestamp, ...(pending[0] ? { execution: this.#execution(pending[0]) } : {}) });
    }
  }

  #execution(execution: JobExecution, withDocument = true): Json {
    const { jobId, thingName, status, statusDetails, queuedAt, startedAt, lastUpdatedAt, versionNumber, executionNumber } = execution;
    return {
      jobId,
      thingName,
      ...(withDocument ? { jobDocument: this.#state.jobs[jobId]?.document } : {}),
      status,
      ...(statusDetails ? { statusDetails } : {}),
      queuedAt,
      ...(startedAt !== undefined ? { startedAt } : {}),
      lastUpdatedAt,
      versionNumber,
      executionNumber,
    };
  }

  #reject(base: string, code: string, message: string, clientToken: string | undefined, extra: Json = {}): void {
    this.#publish(`${base}/rejected`, { code, message, timestamp: this.#timestamp(), ...(clientToken !== undefined ? { clientToken } : {}), ...extra });
  }

  #publish(topic: string, body: Json): void {
    this.#aedes.publish({ cmd: "publish", topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: false, dup: false } as never, () => undefined);
  }

  #timestamp(): number {
    return Math.floor((this.#options.now?.() ?? Date.now()) / 1000);
  }

  #save(): void {
    if (this.#options.dir) writeFileAtomically(path.join(this.#options.dir, "jobs.json"), JSON.stringify(this.#state));
  }

  #drainInbox(): void {
    const inbox = path.join(this.#options.dir!, "inbox");
    let names: string[];
    try {
      names = fs.readdirSync(inbox).filter((name) => name.endsWith(".json")).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(inbox, name);
      try {
        const request = JSON.parse(fs.readFileSync(file, "utf8")) as { jobId: string; targets: string[]; document: Json };
        this.createJob(request.jobId, request.targets, request.document);
      } catch (error) {
        this.#options.log?.(`iot: job request ${name} refused: ${(error as Error).message}`);
      }
      fs.rmSync(file, { force: true });
    }
  }
}

/** Queues a job for a running (or the next) `esplab iot start` on this data directory. */
export function submitJob(dir: string, jobId: string, targets: string[], document: Json): void {
  checkJob(jobId, targets, document);
  const inbox = path.join(dir, "inbox");
  fs.mkdirSync(inbox, { recursive: true });
  writeFileAtomically(path.join(inbox, `${Date.now()}-${jobId}.json`), JSON.stringify({ jobId, targets, document }));
}

function checkJob(jobId: string, targets: string[], document: Json): void {
  if (typeof jobId !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(jobId)) throw new UsageError("bad-job-id", `job id ${JSON.stringify(jobId)} must be 1–64 characters of a-z, A-Z, 0-9, '_' and '-' (AWS's rule)`);
  if (!Array.isArray(targets) || !targets.length) throw new UsageError("no-targets", "a job needs at least one thing to run on (--thing NAME)");
  if (typeof document !== "object" || document === null || Array.isArray(document)) throw new UsageError("bad-job-document", "the job document must be a JSON object");
  if (Buffer.byteLength(JSON.stringify(document)) > JOB_DOCUMENT_MAX_BYTES) throw new UsageError("bad-job-document", `the job document is over AWS's ${JOB_DOCUMENT_MAX_BYTES / 1024} KB limit`);
}

function summary(execution: JobExecution): Json {
  const { jobId, queuedAt, startedAt, lastUpdatedAt, versionNumber, executionNumber } = execution;
  return { jobId, queuedAt, ...(startedAt !== undefined ? { startedAt } : {}), lastUpdatedAt, versionNumber, executionNumber };
}

function isDetails(value: Json): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === "string");
}
