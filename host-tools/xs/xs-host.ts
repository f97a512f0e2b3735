import type { Clock, TimerHandle } from "../../firmware/ports/clock.ts";
import type { Platform } from "../../firmware/ports/index.ts";
import type { Connection } from "../../firmware/ports/transport.ts";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { XsError, XsnapWorker, type XsMeters } from "./xsnap-worker.ts";

type IOInstance = { read(arg?: number): unknown; write(value: unknown, stop?: boolean): void; close(): void; [key: string]: unknown };

/**
 * Runs a firmware bundle inside the real XS engine, with the seams served by the laptop: IO by the virtual board's
 * classes, the network by real sockets, time by the host clock, storage by the host storage. Calls from XS arrive
 * synchronously (issueCommand); calls into XS (timers, pin edges, network data) are queued evaluations, in order.
 */
export class XsHost {
  readonly worker: XsnapWorker;
  readonly #platform: Platform;
  readonly #instances = new Map<number, IOInstance>();
  readonly #timers = new Map<number, TimerHandle>();
  readonly #connections = new Map<number, Connection>();
  #nextId = 1;
  #pending: Promise<unknown> = Promise.resolve();
  #failure: Error | undefined;
  #closed = false;
  /** Meters from the most recent evaluation. */
  lastMeters: XsMeters | undefined;
  /** XS compute units spent by every evaluation and command so far. */
  computeTotal = 0;

  constructor(platform: Platform, options: { onOutput?: (line: string) => void } = {}) {
    this.#platform = platform;
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
    for (const handle of this.#timers.values()) this.#platform.clock.clear(handle);
    this.#timers.clear();
    for (const connection of this.#connections.values()) connection.close();
    for (const instance of this.#instances.values()) instance.close();
    await this.worker.close();
  }

  #evaluate(code: string): Promise<XsMeters> {
    return this.#queue(() => this.worker.evaluate(code));
  }

  #queue(call: () => Promise<XsMeters>): Promise<XsMeters> {
    const run = this.#pending.then(() => {
      if (this.#closed) throw new XsError("XS_CLOSED", "the firmware was stopped");
      return call();
    });
    run.then(
      (meters) => {
        this.lastMeters = meters;
        this.computeTotal += meters.compute ?? 0;
      },
      (error: Error) => {
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
    const { op, args } = JSON.parse(Buffer.from(request).toString("utf8")) as { op: string; args: any };
    const value = this.#dispatch(op, args);
    return Buffer.from(JSON.stringify({ ok: true, value: value === undefined ? null : value }));
  }

  #dispatch(op: string, args: any): unknown {
    const { clock, io, storage, transport, log } = this.#platform;
    switch (op) {
      case "clock.now":
        return clock.now();
      case "clock.epoch":
        return clock.epochMs() ?? null;
      case "clock.delay":
        return clock.delay(args);
      case "clock.set": {
        const fire = () => this.#deliver("timer", args.id);
        this.#timers.set(args.id, args.repeat ? clock.setInterval(fire, args.ms) : clock.setTimeout(() => {
          this.#timers.delete(args.id);
          fire();
        }, args.ms));
        return undefined;
      }
      case "clock.clear":
        clock.clear(this.#timers.get(args));
        this.#timers.delete(args);
        return undefined;
      case "io.digitalConstants": {
        const D = io.Digital;
        return { Input: D.Input, InputPullUp: D.InputPullUp, InputPullDown: D.InputPullDown, Output: D.Output, OutputOpenDrain: D.OutputOpenDrain, Rising: D.Rising, Falling: D.Falling };
      }
      case "io.open": {
        const id = this.#nextId++;
        const Class = (io as unknown as Record<string, new (options: object) => IOInstance>)[args.kind];
        const options = args.edges ? { ...args.options, onReadable: () => this.#deliver("edge", id) } : args.options;
        this.#instances.set(id, new Class!(options));
        return id;
      }
      case "io.call": {
        const instance = this.#instances.get(args.id)!;
        const callArgs = (args.args as unknown[]).map((a) => (a && typeof a === "object" && "base64" in a ? Buffer.from((a as { base64: string }).base64, "base64") : a));
        const result = (instance[args.method] as (...a: unknown[]) => unknown).apply(instance, callArgs);
        if (args.method === "close") this.#instances.delete(args.id);
        return result instanceof ArrayBuffer ? Buffer.from(result).toString("base64") : result;
      }
      case "io.get":
        return this.#instances.get(args.id)![args.property];
      case "net.connect":
        transport
          .connect(args.target, {
            onData: (bytes) => this.#deliver("data", args.id, Buffer.from(bytes).toString("base64")),
            onClose: (error) => {
              this.#connections.delete(args.id);
              this.#deliver("closed", args.id, error ? { code: (error as { code?: string }).code ?? "IO", message: error.message } : undefined);
            },
          })
          .then(
            (connection) => {
              this.#connections.set(args.id, connection);
              this.#deliver("connected", args.id);
            },
            (error: Error & { code?: string }) => this.#deliver("closed", args.id, { code: error.code ?? "IO", message: error.message }),
          );
        return undefined;
      case "net.write":
        this.#connections.get(args.id)?.write(Buffer.from(args.base64, "base64"));
        return undefined;
      case "net.close":
        this.#connections.get(args)?.close();
        return undefined;
      case "storage.get": {
        const value = storage.get(args.domain, args.key);
        return value instanceof ArrayBuffer ? { base64: Buffer.from(value).toString("base64") } : (value ?? null);
      }
      case "storage.set": {
        const value = args.value && typeof args.value === "object" ? new Uint8Array(Buffer.from(args.value.base64, "base64")).buffer : args.value;
        return storage.set(args.domain, args.key, value);
      }
      case "storage.delete":
        return storage.delete(args.domain, args.key);
      case "storage.keys":
        return storage.keys(args);
      case "log":
        return log(String(args));
      default:
        throw new Error(`unknown host call "${op}"`);
    }
  }
}

export type { Clock };
