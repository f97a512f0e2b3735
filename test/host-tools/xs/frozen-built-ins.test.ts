import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { XsnapWorker } from "../../../host-tools/xs/xsnap-worker.ts";
import { bundleXsScript } from "../../support/xs-script.ts";

const errors = path.resolve(import.meta.dirname, "../../../firmware/core/errors.ts");

describe("the laptop's XS engine freezes the built-ins as Moddable's linker does for the device", () => {
  const worker = new XsnapWorker();
  afterAll(() => worker.close());

  it("so an Error subclass that assigns this.name fails here as it fails on the ESP32", async () => {
    await expect(worker.evaluate(`class Named extends Error { constructor() { super("x"); this.name = "Named"; } } new Named();`)).rejects.toThrow(/not writable|read-only|name/);
  });

  it("and the firmware's own errors still construct, with their class name and code", async () => {
    await worker.evaluate(
      await bundleXsScript(`
        import { TransportError, UsageError } from ${JSON.stringify(errors)};
        const a = new TransportError("DNS", "cannot resolve x");
        const b = new UsageError("USAGE", "bad");
        print(JSON.stringify([a.name, a.code, a.message, a instanceof Error, b.name, String(b)]));
      `),
    );
    expect(JSON.parse(worker.output.at(-1)!)).toEqual(["TransportError", "DNS", "cannot resolve x", true, "UsageError", "UsageError: bad"]);
  });

  it("built-in prototypes, Math and JSON are frozen; the global object is not", async () => {
    await worker.evaluate(`print(JSON.stringify([Object.isFrozen(Error.prototype), Object.isFrozen(Array.prototype), Object.isFrozen(Math), Object.isFrozen(JSON), Object.isFrozen(Object.getPrototypeOf(Uint8Array).prototype), Object.isFrozen(globalThis)]))`);
    expect(JSON.parse(worker.output.at(-1)!)).toEqual([true, true, true, true, true, false]);
  });
});
