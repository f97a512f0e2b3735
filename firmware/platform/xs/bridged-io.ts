import type { IOClasses } from "../../ports/io.ts";
import { fromBase64, toBase64 } from "./bridge.ts";

/** A synchronous call to the host that owns the virtual board: one request, one answer (host errors rethrown). */
export type HostCall = <T = unknown>(op: string, args?: unknown) => T;

/** The classes, and where the host's edge reports (by instance id) go. */
export interface BridgedIO {
  io: IOClasses;
  edge(id: number): void;
}

/**
 * ECMA-419 Digital, Analog, PWM and I2C classes whose instances live on the host's virtual board: every method is one
 * synchronous host call, and the host reports input edges back by id. Creating the classes calls nothing and
 * allocates no collection, so a module that builds them can be preloaded by Moddable's linker (a Map made at link
 * time is read-only at run time); the Digital constants and the edge table appear on first use.
 */
export function bridgedIO(callHost: HostCall): BridgedIO {
  let edges: Map<number, () => void> | undefined;
  let digitalConstants: Record<string, number> | undefined;
  const digital = (name: string) => (digitalConstants ??= callHost<Record<string, number>>("io.digitalConstants"))[name];

  const ioClass = (kind: string, constants: readonly string[] = []) => {
    const IO = class {
      readonly #id: number;
      constructor(options: Record<string, unknown>) {
        const { onReadable, ...plain } = options;
        this.#id = callHost<number>("io.open", { kind, options: plain, edges: typeof onReadable === "function" });
        if (typeof onReadable === "function") (edges ??= new Map()).set(this.#id, () => (onReadable as (this: unknown) => void).call(this));
      }
      read(arg?: number) {
        const value = callHost<number | string>("io.call", { id: this.#id, method: "read", args: arg === undefined ? [] : [arg] });
        return typeof value === "string" ? fromBase64(value).buffer : value;
      }
      write(value: number | ArrayBuffer | ArrayBufferView, stop?: boolean) {
        const arg =
          typeof value === "number"
            ? value
            : { base64: toBase64(value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
        callHost("io.call", { id: this.#id, method: "write", args: stop === undefined ? [arg] : [arg, stop] });
      }
      get resolution(): number {
        return callHost<number>("io.get", { id: this.#id, property: "resolution" });
      }
      get hz(): number {
        return callHost<number>("io.get", { id: this.#id, property: "hz" });
      }
      close() {
        edges?.delete(this.#id);
        callHost("io.call", { id: this.#id, method: "close", args: [] });
      }
    };
    for (const name of constants) Object.defineProperty(IO, name, { get: () => digital(name), enumerable: true });
    return IO;
  };

  const io = {
    Digital: ioClass("Digital", ["Input", "InputPullUp", "InputPullDown", "InputPullUpDown", "Output", "OutputOpenDrain", "Rising", "Falling"]),
    Analog: ioClass("Analog"),
    PWM: ioClass("PWM"),
    I2C: ioClass("I2C"),
  } as unknown as IOClasses;
  return { io, edge: (id) => edges?.get(id)?.() };
}
