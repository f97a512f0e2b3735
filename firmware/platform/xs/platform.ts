import { TransportError } from "../../core/errors.ts";
import type { Clock, TimerHandle } from "../../ports/clock.ts";
import type { Platform } from "../../ports/index.ts";
import type { Storage } from "../../ports/storage.ts";
import type { Connection, ConnectionHandlers, ConnectTarget, Transport } from "../../ports/transport.ts";
import { callHost, fromBase64, toBase64 } from "./bridge.ts";
import { bridgedIO } from "./bridged-io.ts";

/**
 * The seams inside the XS engine on the laptop: every call crosses to the host (the virtual board, real sockets,
 * the clock, file storage) through `issueCommand`; the host calls back into XS through `events` for timers, pin
 * edges and network data. The firmware above cannot tell this from the device.
 */

type Callback = () => void;

const timers = new Map<number, { callback: Callback; repeat: boolean }>();
const pendingConnects = new Map<number, { resolve: (c: Connection) => void; reject: (e: Error) => void; connection: Connection }>();
const connectionHandlers = new Map<number, ConnectionHandlers>();
let nextId = 1;

/** What the host calls (by evaluating `__esplab.<name>(…)`). */
export const events = {
  timer(id: number): void {
    const timer = timers.get(id);
    if (!timer) return;
    if (!timer.repeat) timers.delete(id);
    timer.callback();
  },
  edge(id: number): void {
    bridged.edge(id);
  },
  connected(id: number): void {
    const pending = pendingConnects.get(id);
    pendingConnects.delete(id);
    pending?.resolve(pending.connection);
  },
  data(id: number, base64: string): void {
    connectionHandlers.get(id)?.onData(fromBase64(base64));
  },
  closed(id: number, error?: { code: string; message: string } | null): void {
    const failure = error ? new TransportError(error.code, error.message) : undefined;
    const pending = pendingConnects.get(id);
    if (pending) {
      pendingConnects.delete(id);
      pending.reject(failure ?? new TransportError("CLOSED", "connection closed before it opened"));
      return;
    }
    const handlers = connectionHandlers.get(id);
    connectionHandlers.delete(id);
    handlers?.onClose(failure);
  },
};

const clock: Clock = {
  now: () => callHost<number>("clock.now"),
  epochMs: () => callHost<number | null>("clock.epoch") ?? undefined,
  delay: (ms) => callHost("clock.delay", ms),
  setTimeout: (callback, ms) => addTimer(callback, ms, false),
  setInterval: (callback, ms) => addTimer(callback, ms, true),
  clear(handle) {
    if (handle === undefined) return;
    const id = (handle as { id: number }).id;
    if (timers.delete(id)) callHost("clock.clear", id);
  },
};

function addTimer(callback: Callback, ms: number, repeat: boolean): TimerHandle {
  const id = nextId++;
  timers.set(id, { callback, repeat });
  callHost("clock.set", { id, ms, repeat });
  return { id };
}

const bridged = bridgedIO(callHost);
const io = bridged.io;

const transport: Transport = {
  connect(target: ConnectTarget, handlers: ConnectionHandlers): Promise<Connection> {
    const id = nextId++;
    connectionHandlers.set(id, handlers);
    return new Promise((resolve, reject) => {
      const connection: Connection = {
        write(bytes) {
          callHost("net.write", { id, base64: toBase64(bytes) });
        },
        close() {
          callHost("net.close", id);
        },
      };
      pendingConnects.set(id, { resolve, reject, connection });
      callHost("net.connect", { id, target });
    });
  },
};

const storage: Storage = {
  get(domain, key) {
    const value = callHost<string | number | boolean | { base64: string } | null>("storage.get", { domain, key });
    if (value === null) return undefined;
    return typeof value === "object" ? fromBase64(value.base64).slice().buffer : value;
  },
  set(domain, key, value) {
    callHost("storage.set", { domain, key, value: value instanceof ArrayBuffer ? { base64: toBase64(new Uint8Array(value)) } : value });
  },
  delete: (domain, key) => callHost("storage.delete", { domain, key }),
  keys: (domain) => callHost<string[]>("storage.keys", domain),
};

export const xsPlatform: Platform = { io, clock, transport, storage, log: (line) => callHost("log", line) };
