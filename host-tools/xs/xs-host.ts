import type { Clock } from "../../firmware/ports/clock.ts";
import type { Platform } from "../../firmware/ports/index.ts";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { HostCalls } from "../runtime/host-calls.ts";
import { XsError, XsnapWorker, type XsMeters } from "./xsnap-worker.ts";

/**
 * Runs a firmware bundle inside the real XS engine, with the seams served by the laptop: IO by the virtual board's
 * classes, the network by real sockets, time by the host clock, storage by the host storage. Calls from XS arrive
 * synchronously (issueCommand); calls into XS (timers, pin edges, network data) are queued evaluations, in order.
 */
export class XsHost {
  readonly worker: XsnapWorker;
  readonly #calls: HostCalls;
  #pending: Promise<unknown> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;
  #queued = 0;
  /** Meters from the most recent evaluation. */
  lastMeters: XsMeters | undefined;
  /** XS compute units spent by every evaluation and command so far. */
  computeTotal = 0;

  constructor(platform: Platform, options: { onOutput?: (line: string) => void } = {}) {
    this.#calls = new HostCalls(platform, (name, ...args) => this.#deliver(name, ...args));
    this.worker = new XsnapWorker({ handler: (request) => this.#handle(request), onOutput: options.onOutput });
  }

  /** Loads the bundle (a script) and starts the firmware with this configuration. */
  async start(bundle: string, config: FlatConfig): Promise<void> {
    await this.#evaluate(bundle);
    await this.#evaluate(`__esplab.start(${JSON.stringify(config)})`);
  }

  /** Resolves when every queued call into XS has run; rejects with the first failure inside XS. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.#pending;
      await seen;
    } while (seen !== this.#pending);
    if (this.#failure) throw this.#failure;
  }

  /** Whether a call into XS is queued or running (idle() waits for that). */
  get busy(): boolean {
    return this.#queued > 0;
  }

  /** Runs code in the engine (after anything queued) and returns its meters. */
  evaluate(code: string): Promise<XsMeters> {
    return this.#evaluate(code);
  }

  /** Runs a full garbage collection in XS; the meters then show the live heap. */
  collectGarbage(): Promise<XsMeters> {
    return this.#queue(() => this.worker.command(Buffer.from(JSON.stringify({ event: "gc", args: [] }))));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.close();
    await this.worker.close();
  }

  #evaluate(code: string): Promise<XsMeters> {
    return this.#queue(() => this.worker.evaluate(code));
  }

  #queue(call: () => Promise<XsMeters>): Promise<XsMeters> {
    this.#queued++;
    const run = this.#pending.then(() => {
      if (this.#closed) throw new XsError("XS_CLOSED", "the firmware was stopped");
      return call();
    });
    run.then(
      (meters) => {
        this.#queued--;
        this.lastMeters = meters;
        this.computeTotal += meters.compute ?? 0;
      },
      (error: Error) => {
        this.#queued--;
        if (!this.#closed) this.#failure ??= error;
      },
    );
    this.#pending = run.catch(() => undefined);
    return run;
  }

  /** Calls `events[name](...args)` inside XS, through handleCommand (no compilation, no garbage left behind). */
  #deliver(name: string, ...args: unknown[]): void {
    if (this.#closed) return;
    const bytes = Buffer.from(JSON.stringify({ event: name, args }));
    void this.#queue(() => this.worker.command(bytes)).catch(() => undefined);
  }

  #handle(request: Uint8Array): Uint8Array {
    return this.#calls.handle(request);
  }
}

export type { Clock };
