import http from "node:http";
import type net from "node:net";
import { EsplabError } from "../../firmware/core/errors.ts";
import type { ConnectTarget } from "../../firmware/ports/transport.ts";

/** Virtual time cannot move: a peer of the device has left a request unanswered for too long in real time. */
export class StalledError extends EsplabError {}

/** The device's end of a TCP connection. */
interface DeviceSocket {
  socket: net.Socket;
  where: string;
  /** Served by the local cloud in this process, so both ends can be metered. */
  local: boolean;
  connected: boolean;
  closed: boolean;
  /** "<device's port>:<cloud's port>", once connected (a closed socket no longer knows its ports). */
  key?: string;
}

/** The local cloud's end of a connection. */
interface CloudSocket {
  socket: net.Socket;
  closed: boolean;
}

/** Real-time turns of Node's event loop with nothing happening, after which the cloud's own work is done. */
const QUIET_TURNS = 4;
/** How often an outstanding request is looked at again when nothing wakes the wait sooner (real time). */
const RECHECK_MS = 2;

/**
 * When a scenario's virtual time may move: only when the device is quiescent. Time stands still while anything the
 * device or the local cloud started is still under way, and that is waited for in real time:
 *
 * - the engine is idle (XsHost.idle(): nothing queued for XS, no seam call in flight);
 * - every connection between the device and the local cloud is settled: connected and accepted, every byte either
 *   side wrote has been read by the other (socket byte counts at both ends, in this process), and either both ends
 *   are open or both closed (no FIN or reset on its way);
 * - no HTTP request to the local cloud is unanswered (a response not finished; an event stream counts as answered
 *   once its headers are out). Other protocols (MQTT) are not waited on for an answer the broker never sends: the
 *   device's own timeouts see that, in virtual time, as they would on a board;
 * - then Node's event loop has turned QUIET_TURNS times with none of the above happening, so the cloud's own
 *   in-process work (aedes routing a message, a cloud function's write) has run to its next network write.
 *
 * All the cloud's work between two observable events is in-process JavaScript (no disk: the scenario cloud is in
 * memory), so how many loop turns it takes does not depend on CPU speed or load; what does — the kernel's delivery
 * of bytes, the XS process — is waited for by the counts above. So every run reaches the same quiescent states in
 * the same order, and the device sees the same virtual times. A wait that makes no progress for `stallMs` of real
 * time is a StalledError naming what is outstanding. Connections to hosts outside the local cloud cannot be metered
 * at the far end; virtual time does not wait for their answers (such a run should use real time).
 */
export class Quiescence {
  readonly #device = new Set<DeviceSocket>();
  /** The cloud's sockets by "<device's port>:<cloud's port>". */
  readonly #cloud = new Map<string, CloudSocket>();
  readonly #cloudPorts = new Set<number>();
  /** Unfinished responses: what was asked, and whether it asked for an event stream. */
  readonly #responses = new Map<http.ServerResponse, { what: string; stream: boolean }>();
  readonly #engineIdle: () => Promise<void>;
  readonly #engineBusy: () => boolean;
  readonly #stallMs: number;
  #activity = 0;
  #quietAt = -1;
  #wake: (() => void) | undefined;

  readonly #onForeignPeer: ((where: string) => void) | undefined;

  /** `onForeignPeer` hears of each connection to a host outside the local cloud, whose answers time does not wait for. */
  constructor(
    options: { engineIdle?: () => Promise<void>; engineBusy?: () => boolean; stallMs?: number; onForeignPeer?: (where: string) => void } = {},
  ) {
    this.#engineIdle = options.engineIdle ?? (async () => undefined);
    this.#engineBusy = options.engineBusy ?? (() => false);
    this.#stallMs = options.stallMs ?? 10_000;
    this.#onForeignPeer = options.onForeignPeer;
  }

  /** Something happened that may start more work (a socket event, a message published into the cloud). */
  noteActivity = (): void => {
    this.#activity++;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  };

  /** Meters a listening server of the local cloud; HTTP servers also have their unanswered requests counted. */
  watchServer(server: net.Server, name: string): void {
    const address = server.address();
    if (address && typeof address === "object") this.#cloudPorts.add(address.port);
    server.on("connection", (socket: net.Socket) => {
      const key = `${socket.remotePort}:${socket.localPort}`;
      const entry: CloudSocket = { socket, closed: false };
      this.#cloud.set(key, entry);
      socket.on("data", this.noteActivity);
      socket.on("close", () => {
        entry.closed = true;
        if (![...this.#device].some((device) => device.key === key)) this.#cloud.delete(key);
        this.noteActivity();
      });
      this.noteActivity();
    });
    if (server instanceof http.Server) {
      server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
        const stream = String(request.headers.accept ?? "").includes("text/event-stream");
        this.#responses.set(response, { what: `${name} ${request.method} ${request.url?.split("?")[0]}`, stream });
        const done = () => {
          this.#responses.delete(response);
          this.noteActivity();
        };
        response.on("finish", done);
        response.on("close", done);
        this.noteActivity();
      });
    }
  }

  /** For NodeTransport's onSocket: meters one of the device's connections. */
  watchDeviceSocket = (socket: net.Socket, target: ConnectTarget): void => {
    const local = /^(127\.0\.0\.1|localhost|::1)$/.test(target.host) && this.#cloudPorts.has(target.port);
    const entry: DeviceSocket = { socket, where: `${target.host}:${target.port}`, local, connected: false, closed: false };
    this.#device.add(entry);
    if (!local) this.#onForeignPeer?.(entry.where);
    socket.once("connect", () => {
      entry.connected = true;
      entry.key = `${socket.localPort}:${socket.remotePort}`;
      this.noteActivity();
    });
    socket.on("data", this.noteActivity);
    socket.on("close", () => {
      entry.closed = true;
      this.noteActivity();
    });
    this.noteActivity();
  };

  /** Resolves once the device is quiescent (see the class comment); rejects with StalledError if a peer stops answering. */
  async settled(): Promise<void> {
    for (;;) {
      await microtasks();
      await this.#engineIdle();
      await this.#untilNothingOutstanding();
      // Nothing happened since the last quiescent moment: the timer that just ran touched neither network nor cloud.
      if (this.#activity === this.#quietAt && !this.#engineBusy()) return;
      const before = this.#activity;
      for (let turn = 0; turn < QUIET_TURNS; turn++) await new Promise((resolve) => setImmediate(resolve));
      // (an event the turns delivered, a connection's "connected" say, may have set the engine running again)
      if (this.#activity === before && this.#outstanding().length === 0 && !this.#engineBusy()) {
        this.#quietAt = this.#activity;
        return;
      }
    }
  }

  /** Waits in real time while anything is outstanding; a wait that makes no progress for stallMs is a StalledError. */
  async #untilNothingOutstanding(): Promise<void> {
    let progressAt = performance.now();
    let seen = this.#activity;
    for (;;) {
      const outstanding = this.#outstanding();
      if (outstanding.length === 0) return;
      if (this.#activity !== seen) {
        seen = this.#activity;
        progressAt = performance.now();
      } else if (performance.now() - progressAt > this.#stallMs) {
        throw new StalledError(
          "STALLED",
          `the device and the local cloud made no progress for ${this.#stallMs / 1000} s of real time, so virtual time cannot move: ${outstanding.join("; ")}. ` +
            "A request the server cannot finish (a body shorter than its Content-Length, say) or a peer that stopped reading does this; run with --real-time to watch it live",
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECHECK_MS);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      await this.#engineIdle();
    }
  }

  /** What is under way, in words (empty when nothing is). */
  #outstanding(): string[] {
    const found: string[] = [];
    for (const device of this.#device) {
      if (!device.local) {
        if (device.closed) this.#device.delete(device);
        continue;
      }
      if (!device.connected) {
        if (device.closed) this.#device.delete(device);
        else found.push(`connecting to ${device.where}`);
        continue;
      }
      const key = device.key!;
      const cloud = this.#cloud.get(key);
      if (!cloud) {
        if (device.closed) this.#device.delete(device);
        else found.push(`${device.where} has not accepted the connection`);
        continue;
      }
      if (device.closed && cloud.closed) {
        this.#device.delete(device);
        this.#cloud.delete(key);
        continue;
      }
      // A side that has ended or dropped its end is closing: settled only once both ends have closed.
      const deviceClosing = device.closed || device.socket.destroyed || device.socket.writableEnded;
      const cloudClosing = cloud.closed || cloud.socket.destroyed || cloud.socket.writableEnded;
      if (deviceClosing || cloudClosing) {
        found.push(`${device.where}: ${deviceClosing ? "the device" : "the server"} closed the connection and the other end has not finished closing`);
        continue;
      }
      const toCloud = device.socket.bytesWritten - cloud.socket.bytesRead;
      const toDevice = cloud.socket.bytesWritten - device.socket.bytesRead;
      if (toCloud > 0) found.push(`${toCloud} bytes from the device not yet read by ${device.where}`);
      if (toDevice > 0) found.push(`${toDevice} bytes from ${device.where} not yet read by the device`);
    }
    for (const [response, { what, stream }] of this.#responses) {
      if (!(stream && response.headersSent)) found.push(`no answer yet to ${what}`);
    }
    return found;
  }
}

/** Lets queued promise callbacks run (several turns, for chains of awaits). */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
