import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WiringError } from "../../../host-tools/board/wiring-error.ts";
import { firmwareWiringConfig, readWiringFile } from "../../../host-tools/project/wiring-file.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-wiring-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

describe("a project's wiring file", () => {
  it("reads esplab's description as YAML or JSON, and gives the firmware the pins it names", () => {
    const yaml = readWiringFile(file("wiring.yaml", "i2c: { sda: 16, scl: 17 }\nparts:\n  - { type: lcd1602-i2c, address: 0x20 }\n  - { type: ir-gp2y0a21, pin: 33 }\n"), dir);
    expect(yaml.description.name).toBe("wiring.yaml");
    expect(firmwareWiringConfig(yaml.description)).toEqual({ i2c_sda: 16, i2c_scl: 17, lcd_address: 0x20, distance_pin: 33, ir_kind: "distance" });
    const json = readWiringFile(file("wiring.json", JSON.stringify({ parts: [{ type: "servo-sg90", pin: 4 }] })), dir);
    expect(firmwareWiringConfig(json.description)).toEqual({ servo_pin: 4 });
  });

  it("names the file and every problem, and builds nothing from a wiring with one", () => {
    expect(() => readWiringFile(file("broken.json", "{ parts: ["), dir)).toThrow(/broken\.json is not valid JSON/);
    expect(() => readWiringFile(file("list.json", "[]"), dir)).toThrow(/list\.json must hold a board: \{ "i2c"/);
    const conflict = () => readWiringFile(file("conflict.json", JSON.stringify({ parts: [{ type: "servo-sg90", pin: 18 }, { type: "ir-obstacle", pin: 18 }, { type: "laser", pin: 2 }] })), dir);
    expect(conflict).toThrow(WiringError);
    expect(conflict).toThrow(/conflict\.json has 2 problem\(s\):\n {2}- ir-obstacle OUT: GPIO18 is already used by servo-sg90 signal — each pin can serve one part; move one of them\n {2}- laser: unknown part type "laser" \(known: /);
    expect(() => readWiringFile(path.join(dir, "missing.json"), dir)).toThrow(/cannot read the wiring file missing\.json/);
  });
});
