import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLinuxApp, runLinuxApp, type LinuxApp } from "../../host-tools/moddable/linux-host.ts";
import { moddable as sdk } from "../support/moddable.ts";

const fixture = path.resolve(import.meta.dirname, "../fixtures/moddable/host-check.js");

describe.skipIf(!sdk)("the headless Moddable host for Linux (x-cli-lin)", () => {
  let app: LinuxApp;
  let cwd: string;
  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-host-"));
    app = await buildLinuxApp({ sdk: sdk!, name: "host-check", main: fixture, creation: { stack: 256 } });
  }, 180_000);
  afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

  const run = (...args: string[]) => runLinuxApp(app, { args, cwd, timeoutMs: 10_000 });

  it("passes its arguments and ends with the app's exit status", async () => {
    const result = await run("exit", "7");
    expect(result).toMatchObject({ status: 7, timedOut: false, abort: undefined });
    expect(result.lines).toEqual(["mode exit"]);
  });

  it("turns an exception at load or in a callback into an XS abort with the exception's text", async () => {
    expect(await run("throw-at-load")).toMatchObject({ status: 105, abort: "unhandled exception: Error: thrown while loading" });
    expect(await run("throw-in-timer")).toMatchObject({ status: 105, abort: "unhandled exception: Error: thrown in a timer" });
  });

  it("enforces the manifest's stack, counted in slots as on the device", async () => {
    expect(await run("recurse")).toMatchObject({ status: 102, abort: "JavaScript stack overflow" });
  });

  it("runs with the linker's frozen built-ins: shadowing Error.prototype.name by assignment throws", async () => {
    expect(await run("shadow-frozen")).toMatchObject({ status: 105, abort: "unhandled exception: TypeError: set name: not writable" });
  });

  it("stops an app that never ends at the watchdog", async () => {
    const result = await runLinuxApp(app, { args: ["hang"], cwd, timeoutMs: 500 });
    expect(result).toMatchObject({ status: undefined, timedOut: true });
  });

  it("reuses the binary when nothing changed", async () => {
    const again = await buildLinuxApp({ sdk: sdk!, name: "host-check", main: fixture, creation: { stack: 256 } });
    expect(again.binary).toBe(app.binary);
    expect(again.built).toBe(false);
  });
});
