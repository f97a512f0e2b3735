import { BuildError, type BuildProblem } from "../build/firmware-bundle.ts";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import type { VirtualDevice } from "../runtime/virtual-device.ts";

/** What the lab's firmware is doing, as the page shows it. */
export interface FirmwareStatus {
  state: "building" | "resetting" | "running" | "not running";
  /** Why it is not running: the build failed, or the firmware threw while starting (a config error, a wrong address). */
  problem?: BuildProblem & { kind: "build" | "start" };
}

/**
 * Runs the lab's firmware on the virtual device through the edit-run loop: `rebuild` (a save) builds a bundle and
 * resets the board onto it; `reset` (the page's Reset) starts the current bundle again without building. A failed
 * build or start leaves the firmware stopped, with the problem in the status and in the board's diagnostics, and the
 * next rebuild tries again; nothing here throws to its caller. Steps never overlap: each waits for the one before.
 */
export class FirmwareRunner {
  readonly #device: VirtualDevice;
  /** Builds a bundle and returns its file; none for engines that load the firmware themselves (node, moddable). */
  readonly #build: (() => Promise<string>) | undefined;
  /** Reads the settings again before each start, so a fixed setting takes effect on the next reset. */
  readonly #settings: (() => FlatConfig | Promise<FlatConfig>) | undefined;
  #bundle: string | undefined;
  #status: FirmwareStatus = { state: "not running" };
  readonly #listeners = new Set<(status: FirmwareStatus) => void>();
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: { device: VirtualDevice; build?: () => Promise<string>; settings?: () => FlatConfig | Promise<FlatConfig> }) {
    this.#device = options.device;
    this.#build = options.build;
    this.#settings = options.settings;
  }

  get status(): FirmwareStatus {
    return this.#status;
  }

  listen(listener: (status: FirmwareStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Builds the firmware (when this engine needs a bundle) and resets the board onto it. */
  rebuild(): Promise<void> {
    return this.#step(() => this.#buildAndRestart());
  }

  /** Resets the board onto the current bundle, as pressing EN does; builds only if no build has succeeded yet. */
  reset(): Promise<void> {
    return this.#step(() => (this.#build && this.#bundle === undefined ? this.#buildAndRestart() : this.#restart()));
  }

  /** Stops the firmware once the step under way ends; later steps do nothing. */
  async stop(): Promise<void> {
    await this.#step(async () => {
      this.#stopped = true;
      await this.#device.stop();
      this.#set({ state: "not running" });
    });
  }

  async #buildAndRestart(): Promise<void> {
    if (this.#build) {
      this.#set({ state: "building" });
      try {
        this.#bundle = await this.#build();
      } catch (error) {
        this.#bundle = undefined;
        await this.#device.stop().catch(() => undefined);
        return this.#fail("build", error);
      }
    }
    await this.#restart();
  }

  async #restart(): Promise<void> {
    this.#set({ state: "resetting" });
    try {
      if (this.#settings) this.#device.config = await this.#settings();
      await this.#device.restart(this.#bundle);
    } catch (error) {
      await this.#device.stop().catch(() => undefined);
      return this.#fail("start", error);
    }
    this.#set({ state: "running" });
  }

  #step(run: () => Promise<void>): Promise<void> {
    const step = this.#queue.then(() => (this.#stopped ? undefined : run()));
    this.#queue = step.catch(() => undefined);
    return step;
  }

  #fail(kind: "build" | "start", error: unknown): void {
    const problem = error instanceof BuildError ? error.problem : { message: (error as Error)?.message ?? String(error) };
    this.#set({ state: "not running", problem: { kind, ...problem } });
    const what = kind === "build" ? "the firmware does not build" : "the firmware did not start";
    const said = "hint" in problem && problem.hint ? `${problem.message} — ${problem.hint}` : problem.message;
    const message = said.startsWith("the firmware") ? said : `${what}: ${said}`;
    this.#device.board.diagnostics.report("firmware", "error", problem.frame ? `${message}\n${problem.frame}` : message);
  }

  #set(status: FirmwareStatus): void {
    this.#status = status;
    for (const listener of this.#listeners) listener(status);
  }
}
