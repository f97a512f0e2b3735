import { Worker } from "node:worker_threads";
import type { Project } from "../project/project.ts";
import { BuildError, type BundleTarget, type BuildProblem } from "./firmware-bundle.ts";

type Reply = { id: number; file?: string; problem?: BuildProblem };

/**
 * Builds firmware bundles on a worker thread, so the process that asked (the lab's page server) keeps answering
 * while rollup and TypeScript work. One build at a time, in the order asked; a failed build rejects with a
 * BuildError and the next one runs as usual. The thread stays warm between builds and is replaced if it dies.
 */
export class BackgroundBuilder {
  #worker: Worker | undefined;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (file: string) => void; reject: (error: Error) => void }>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Builds the target's bundle of a project (esplab's own by default); resolves with its file. */
  build(target: BundleTarget, project?: Project): Promise<string> {
    const run = this.#queue.then(() => this.#send(target, project));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Starts the thread now, so the first build does not wait for it to load rollup and TypeScript. */
  warm(): void {
    this.#thread();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #send(target: BundleTarget, project: Project | undefined): Promise<string> {
    if (this.#closed) return Promise.reject(new BuildError({ message: "the builder was closed" }));
    const id = this.#next++;
    return new Promise<string>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#thread().postMessage({ id, target, project });
    });
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./build-worker.mjs", import.meta.url));
    worker.unref();
    worker.on("message", (reply: Reply | { ready: true }) => {
      if (!("id" in reply)) return;
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (reply.file) waiting?.resolve(reply.file);
      else waiting?.reject(new BuildError(reply.problem ?? { message: "the build ended without a bundle" }));
    });
    const lost = (why: string) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, waiting] of this.#waiting) {
        this.#waiting.delete(id);
        waiting.reject(new BuildError({ message: `the build thread stopped (${why}); save again to retry` }));
      }
    };
    worker.on("error", (error) => lost(error.message));
    worker.on("exit", (code) => lost(`exit code ${code}`));
    this.#worker = worker;
    return worker;
  }
}
