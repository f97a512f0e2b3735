import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { requireEngine } from "../../../host-tools/runtime/virtual-device.ts";

describe("choosing the engine (--engine)", () => {
  it("names the engines there are when given another", () => {
    expect(() => requireEngine("v8")).toThrow('--engine must be node, xs, moddable; got "v8"');
  });

  it("refuses moddable before anything starts when Moddable's tools are missing, and says how to get them", () => {
    const env = { ESPLAB_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), "esplab-no-sdk-")) };
    expect(() => requireEngine("moddable", env)).toThrow(/--engine moddable needs Moddable's tools: .*esplab moddable setup --sdk/);
    expect(requireEngine("xs", env)).toBe("xs");
  });
});
