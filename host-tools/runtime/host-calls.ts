import type { TimerHandle } from "../../firmware/ports/clock.ts";
import type { Platform } from "../../firmware/ports/index.ts";
import type { Connection } from "../../firmware/ports/transport.ts";

type IOInstance = { read(arg?: number): unknown; write(value: unknown, stop?: boolean): void; close(): void; [key: string]: unknown };

/** Sends an event into the firmware's engine: `events[name](...args)` there. */
export type Deliver = (name: string, ...args: unknown[]) => void;

/**
 * The laptop's side of a bridged firmware: answers the engine's synchronous calls (`{op, args}` as JSON) from the
 * platform — IO on the virtual board, timers on the clock, sockets, storage, the serial log — and sends what
 * happens later (timer fired, pin edge, data arrived) back as events. The XS engine reaches it through xsnap's
 * issueCommand; Moddable's Linux runtime through a socket. Host errors answer `{error, code}`, never throw.
 */
export class HostCalls {
  readonly #platform: Platform;
  readonly #deliver: Deliver;
  readonly #extra: Record<string, (args: any) => unknown>;
  readonly #instances = new Map<number, IOInstance>();
  readonly #timers = new Map<number, TimerHandle>();
  readonly #connections = new Map<number, Connection>();
  #nextId = 1;

  constructor(platform: Platform, deliver: Deliver, extra: Record<string, (args: any) => unknown> = {}) {
    this.#platform = platform;
    this.#deliver = deliver;
    this.#extra = extra;
  }

  /** One request from the engine, one answer to it. */
  handle(request: Uint8Array): Uint8Array {
    try {
      const { op, args } = JSON.parse(Buffer.from(request).toString("utf8")) as { op: string; args: any };
      const value = this.dispatch(op, args);
      return Buffer.from(JSON.stringify({ ok: true, value: value === undefined ? null : value }));
    } catch (error) {
      return Buffer.from(JSON.stringify({ error: String((error as Error)?.message ?? error), code: (error as { code?: string })?.code }));
    }
  }

  /** Releases what the firmware held: timers, sockets, pins. */
  close(): void {
    for (const handle of this.#timers.values()) this.#platform.clock.clear(handle);
    this.#timers.clear();
    for (const connection of this.#connections.values()) connection.close();
    this.#connections.clear();
    for (const instance of this.#instances.values()) instance.close();
    this.#instances.clear();
  }

  dispatch(op: string, args: any): unknown {
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
        const D = io.Digital as typeof io.Digital & { InputPullUpDown?: number };
        return { Input: D.Input, InputPullUp: D.InputPullUp, InputPullDown: D.InputPullDown, InputPullUpDown: D.InputPullUpDown, Output: D.Output, OutputOpenDrain: D.OutputOpenDrain, Rising: D.Rising, Falling: D.Falling };
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
      default: {
        const extra = this.#extra[op];
        if (extra) return extra(args);
        throw new Error(`unknown host call "${op}"`);
      }
    }
  }
}
