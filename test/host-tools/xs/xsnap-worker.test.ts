import { afterEach, describe, expect, it } from "vitest";
import { XsnapWorker } from "../../../host-tools/xs/xsnap-worker.ts";

describe("the XS engine's command pipe", () => {
  let worker: XsnapWorker | undefined;
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });

  it("answers every synchronous call in order, the replies read straight from the pipe or through the event loop", async () => {
    const seen: number[] = [];
    worker = new XsnapWorker({
      handler: (request) => {
        const n = new Uint8Array(request)[0]!;
        seen.push(n);
        return new Uint8Array([n + 1]);
      },
    });
    // A silence between calls longer than the direct read waits for sends the next call through the event loop.
    await worker.evaluate(`
      globalThis.results = [];
      for (let i = 0; i < 200; i++) {
        if (i % 50 === 0) { const until = Date.now() + 5; while (Date.now() < until); }
        results.push(new Uint8Array(issueCommand(new Uint8Array([i]).buffer))[0]);
      }
      if (results.some((r, i) => r !== i + 1)) throw new Error("reply out of order: " + results);
    `);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it("has what a script printed in output by the time its evaluation resolves, lines whole however the pipe splits them", async () => {
    worker = new XsnapWorker();
    for (let i = 0; i < 200; i++) {
      await worker.evaluate(`print("line ${i} " + "é".repeat(${i % 7 === 0 ? 20000 : 1}))`);
      expect(worker.output.at(-1)).toBe(`line ${i} ${"é".repeat(i % 7 === 0 ? 20000 : 1)}`);
    }
    expect(worker.output).toHaveLength(200);
  });

  it("keeps the host's event loop turning while a script calls it without end", async () => {
    let calls = 0;
    worker = new XsnapWorker({ handler: () => (calls++, new Uint8Array([0])) });
    await worker.evaluate("globalThis.started = true"); // the engine is up; the loop comes next
    const running = worker.evaluate("for (;;) issueCommand(new ArrayBuffer(1));");
    running.catch(() => undefined);
    // Timers still fire while the engine calls the host thousands of times a second.
    const ticks: number[] = [];
    for (let i = 0; i < 5; i++) ticks.push(await new Promise<number>((resolve) => setTimeout(() => resolve(calls), 10)));
    expect(ticks[0]).toBeGreaterThan(0);
    expect(ticks[4]).toBeGreaterThan(ticks[0]!);
    await worker.close();
    await expect(running).rejects.toThrow(/XS engine (exited|was closed)/);
    worker = undefined;
  });
});
