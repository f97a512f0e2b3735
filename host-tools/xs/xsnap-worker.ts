import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { Readable, Writable } from "node:stream";
import { EsplabError } from "../../firmware/core/errors.ts";
import { FREEZE_BUILT_INS } from "./freeze-built-ins.ts";

const COMMA = Buffer.from(",");

/**
 * While a script runs, the engine calls the host every few µs (each seam call is a round trip). Waiting for its next
 * message on the event loop costs a wake-up of the loop per message; reading the pipe directly for a moment answers
 * in a fraction of that. A longer silence (the engine computing) falls back to the event loop, and after
 * MAX_SYNC_MS without it the worker yields once, so the host stays responsive even to a script that never ends.
 */
const SPIN_MS = 0.25;
const MAX_SYNC_MS = 20;

/** The descriptor behind a child's pipe, where Node exposes it (an internal handle field; undefined otherwise). */
function pipeFd(pipe: Readable): number | undefined {
  const fd = (pipe as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/** The XS engine could not be started, or broke its protocol. */
export class XsError extends EsplabError {}

/** Work and memory the engine reports after each evaluation ("meters"). */
export interface XsMeters {
  /** Deterministic work units (XS's metering), comparable across machines. */
  compute: number;
  allocate: number;
  currentHeapCount: number;
}

/** Answers a synchronous `issueCommand(ArrayBuffer)` from inside XS. */
export type CommandHandler = (request: Uint8Array) => Uint8Array;

/** Where npm install builds the worker (the approved @agoric/xsnap install script). */
export function xsnapWorkerPath(): string {
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve("@agoric/xsnap/package.json"));
  const platform = process.platform === "darwin" ? "mac" : "lin";
  return path.join(packageDir, "xsnap-native", "xsnap", "build", "bin", platform, "release", "xsnap-worker");
}

/**
 * A Moddable XS engine in a child process (`xsnap-worker` from @agoric/xsnap), driven over its netstring protocol on
 * file descriptors 3 (to the engine) and 4 (from it): `e<code>` evaluates a script and runs its promise jobs; while it
 * runs, the script may call `issueCommand(buffer)`, which blocks in XS until the host answers.
 */
export class XsnapWorker {
  readonly #process: ChildProcess;
  readonly #toEngine: Writable;
  #buffer = Buffer.alloc(0);
  #waiters: ((message: Buffer) => void)[] = [];
  #queue: Buffer[] = [];
  #exited: Error | undefined;
  #closing = false;
  #busy: Promise<unknown> = Promise.resolve();
  #handler: CommandHandler;
  /** The pipe from the engine, read directly between event-loop turns (undefined where Node does not expose it). */
  #fromEngineFd: number | undefined;
  readonly #scratch = Buffer.alloc(64 * 1024);
  #syncSince = 0;
  /** The engine's stdout and stderr pipes with their line handler, drained directly when an evaluation ends. */
  #textPipes: { fd: number | undefined; onText: (chunk: Buffer) => void }[] = [];
  /** What the engine printed with `print()` or to stderr. */
  readonly output: string[] = [];

  constructor(options: { handler?: CommandHandler; onOutput?: (line: string) => void } = {}) {
    const binary = xsnapWorkerPath();
    if (!fs.existsSync(binary)) {
      throw new XsError(
        "XSNAP_MISSING",
        `the XS engine is not built (${binary} is missing). npm builds it when installing @agoric/xsnap: run ` +
          '"npm rebuild @agoric/xsnap" (it needs gcc and make), and check that package.json\'s allowScripts approves it',
      );
    }
    this.#handler = options.handler ?? ((request) => request);
    this.#process = spawn(binary, ["esplab"], { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
    // Lines are assembled per pipe: a read can end mid-line or mid-character.
    this.#textPipes = [this.#process.stdout!, this.#process.stderr!].map((pipe) => {
      const decoder = new StringDecoder("utf8");
      let partial = "";
      const emit = (text: string, final: boolean) => {
        const lines = (partial + text).split("\n");
        partial = final ? "" : lines.pop()!;
        for (const line of lines) {
          if (!line) continue;
          this.output.push(line);
          options.onOutput?.(line);
        }
      };
      pipe.on("data", (chunk: Buffer) => emit(decoder.write(chunk), false));
      pipe.on("end", () => emit(decoder.end(), true));
      return { fd: pipeFd(pipe), onText: (chunk: Buffer) => emit(decoder.write(chunk), false) };
    });
    this.#toEngine = this.#process.stdio[3] as Writable;
    const fromEngine = this.#process.stdio[4] as Readable;
    fromEngine.on("data", (chunk: Buffer) => this.#receive(chunk));
    this.#fromEngineFd = pipeFd(fromEngine);
    // A pipe breaks when the engine dies (EPIPE on the next write); the exit handler below reports that, so a pipe
    // error must not become an unhandled 'error' event that ends the whole host.
    for (const pipe of [this.#process.stdout!, this.#process.stderr!, this.#toEngine, fromEngine]) pipe.on("error", () => undefined);
    this.#process.on("error", (error) => {
      this.#exited ??= new XsError("XS_START", `the XS engine could not run (${binary}): ${error.message}`);
      for (const waiter of this.#waiters.splice(0)) waiter(Buffer.alloc(0));
    });
    this.#process.on("exit", (code, signal) => {
      this.#exited = new XsError("XS_EXIT", `the XS engine exited (${signal ?? `code ${code}`})${this.output.length ? `: ${this.output.slice(-3).join(" | ")}` : ""}`);
      for (const waiter of this.#waiters.splice(0)) waiter(Buffer.alloc(0));
    });
    // Before anything else runs, the built-ins are frozen as on the device; a failure here fails every later call.
    const frozen = this.#exchange(Buffer.from(`e${FREEZE_BUILT_INS}`, "utf8"));
    frozen.catch(() => undefined);
    this.#busy = frozen;
  }

  set handler(handler: CommandHandler) {
    this.#handler = handler;
  }

  /** Evaluates a script in the engine's global scope and runs its jobs to idle; returns the meters. */
  evaluate(code: string): Promise<XsMeters> {
    const run = this.#busy.then(() => this.#exchange(Buffer.concat([Buffer.from("e"), Buffer.from(code, "utf8")])));
    this.#busy = run.catch(() => undefined);
    return run;
  }

  /**
   * Hands bytes to the engine's `globalThis.handleCommand(ArrayBuffer)` and runs its jobs to idle. Unlike
   * evaluate(), nothing is compiled: each evaluation keeps a heap slot in XS for good, a command keeps none.
   */
  command(bytes: Uint8Array): Promise<XsMeters> {
    const run = this.#busy.then(() => this.#exchange(Buffer.concat([Buffer.from("?"), Buffer.from(bytes)])));
    this.#busy = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.#exited || this.#closing) return;
    this.#closing = true;
    const exited = new Promise<void>((resolve) => this.#process.once("exit", () => resolve()));
    this.#toEngine.end();
    const timer = setTimeout(() => this.#process.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
  }

  async #exchange(message: Buffer): Promise<XsMeters> {
    this.#send(message);
    this.#syncSince = performance.now();
    for (;;) {
      let reply = this.#nextNow();
      if (!reply) {
        if (performance.now() - this.#syncSince > MAX_SYNC_MS) await new Promise((resolve) => setImmediate(resolve));
        reply = await this.#next();
        this.#syncSince = performance.now();
      }
      if (reply.length === 0) throw this.#exited ?? new XsError("XS_PROTOCOL", "the XS engine sent an empty message");
      const kind = String.fromCharCode(reply[0]!);
      if (kind === "?") {
        let answer: Uint8Array;
        try {
          answer = this.#handler(new Uint8Array(reply.subarray(1)));
        } catch (error) {
          answer = Buffer.from(JSON.stringify({ error: String((error as Error)?.message ?? error), code: (error as EsplabError)?.code }));
        }
        this.#send(Buffer.concat([Buffer.from("/"), Buffer.from(answer)]));
        continue;
      }
      if (kind === "!") throw new XsError("XS_EXCEPTION", `uncaught exception in XS: ${reply.subarray(1).toString("utf8")}`);
      if (kind === ".") {
        this.#drainText();
        const separator = reply.indexOf(1, 1);
        const meters = separator > 0 ? (JSON.parse(reply.subarray(1, separator).toString("utf8")) as XsMeters) : undefined;
        return meters ?? { compute: 0, allocate: 0, currentHeapCount: 0 };
      }
      throw new XsError("XS_PROTOCOL", `the XS engine sent an unknown message kind "${kind}"`);
    }
  }

  #send(payload: Buffer): void {
    if (this.#exited) throw this.#exited;
    if (this.#closing) throw new XsError("XS_CLOSED", "the XS engine was closed");
    // One write (one syscall) per netstring rather than three: the engine waits on every round trip.
    this.#toEngine.write(Buffer.concat([Buffer.from(`${payload.length}:`), payload, COMMA]));
  }

  /** The engine's next message if it arrives within SPIN_MS, read straight from the pipe; else undefined. */
  #nextNow(): Buffer | undefined {
    if (this.#queue.length) return this.#queue.shift();
    const fd = this.#fromEngineFd;
    if (fd === undefined || this.#exited || performance.now() - this.#syncSince > MAX_SYNC_MS) return undefined;
    const until = performance.now() + SPIN_MS;
    do {
      let read: number;
      try {
        read = fs.readSync(fd, this.#scratch, 0, this.#scratch.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN") continue;
        this.#fromEngineFd = undefined; // not a pipe this can read directly: the event loop reads it
        return undefined;
      }
      if (read === 0) return undefined; // the engine closed the pipe: the exit handler reports why
      this.#receive(Buffer.from(this.#scratch.subarray(0, read)));
      if (this.#queue.length) return this.#queue.shift();
    } while (performance.now() < until);
    return undefined;
  }

  /**
   * The engine prints before it answers, but its stdout and stderr are other pipes than its answers: without this, an
   * evaluation could resolve before the event loop has delivered what it printed, and `output` would lag behind.
   */
  #drainText(): void {
    for (const pipe of this.#textPipes) {
      while (pipe.fd !== undefined) {
        let read: number;
        try {
          read = fs.readSync(pipe.fd, this.#scratch, 0, this.#scratch.length, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN") pipe.fd = undefined;
          break;
        }
        if (read === 0) break;
        pipe.onText(Buffer.from(this.#scratch.subarray(0, read)));
      }
    }
  }

  #next(): Promise<Buffer> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#exited) return Promise.resolve(Buffer.alloc(0));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Splits the engine's byte stream into netstrings (`<length>:<payload>,`). */
  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const colon = this.#buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.#buffer.subarray(0, colon).toString("ascii"));
      if (!Number.isInteger(length)) {
        this.#process.kill();
        return;
      }
      if (this.#buffer.length < colon + 1 + length + 1) return;
      const message = this.#buffer.subarray(colon + 1, colon + 1 + length);
      this.#buffer = this.#buffer.subarray(colon + 1 + length + 1);
      const waiter = this.#waiters.shift();
      if (waiter) waiter(Buffer.from(message));
      else this.#queue.push(Buffer.from(message));
    }
  }
}
