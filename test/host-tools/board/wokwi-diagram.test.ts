import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LAB_WIRING } from "../../../host-tools/board/lab-wiring.ts";
import { fromWokwiDiagram, toWokwiDiagram } from "../../../host-tools/board/wokwi-diagram.ts";
import { WiringError } from "../../../host-tools/board/wiring-error.ts";
import { firmwareWiringConfig } from "../../../host-tools/project/wiring-file.ts";

const fixture = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../../fixtures/wokwi/course-parts.json"), "utf8"));

describe("Wokwi's diagram.json", () => {
  it("reads a student's diagram with the course parts on a DevKit v1, pin names and the LCD's address included", () => {
    const { description, warnings } = fromWokwiDiagram(fixture);
    expect(description.i2c).toEqual({ sda: 21, scl: 22 });
    expect(description.parts).toEqual([
      { type: "lcd1602-i2c", id: "lcd", address: 0x3f },
      { type: "keypad-4x4", id: "keypad", rows: [13, 12, 14, 27], columns: [26, 25, 33, 32] },
      { type: "servo-sg90", id: "servo", pin: 19 },
      { type: "ir-obstacle", id: "ir", pin: 35 },
    ]);
    expect(warnings).toEqual(["led1 (wokwi-led) is left out: esplab does not model it"]); // the resistor is passive: no word
    expect(firmwareWiringConfig(description)).toEqual({
      i2c_sda: 21, i2c_scl: 22, lcd_address: 0x3f, keypad_rows: "13,12,14,27", keypad_columns: "26,25,33,32", servo_pin: 19, ir_pin: 35, ir_kind: "obstacle",
    });
  });

  it("writes the lab's board as a diagram (DevKit C v4, power wires included) that reads back the same", () => {
    const diagram = toWokwiDiagram(LAB_WIRING);
    expect(diagram.parts.map((part) => part.type)).toEqual(["board-esp32-devkit-c-v4", "wokwi-lcd1602", "wokwi-membrane-keypad", "wokwi-servo", "esplab-fc51", "esplab-gp2y0a21"]);
    expect(diagram.connections).toContainEqual(["lcd:VCC", "esp:5V", "red", []]);
    expect(diagram.connections).toContainEqual(["distance:VO", "esp:35", "yellow", []]);
    const back = fromWokwiDiagram(JSON.parse(JSON.stringify(diagram))).description;
    expect(back.i2c).toEqual(LAB_WIRING.i2c);
    expect(back.parts).toEqual(LAB_WIRING.parts);
  });

  it("follows wires through other wires and names what cannot work", () => {
    const board = { type: "board-esp32-devkit-c-v4", id: "esp" };
    const servo = (connections: string[][], attrs = {}) => fromWokwiDiagram({ version: 1, parts: [board, { type: "wokwi-servo", id: "s", attrs }], connections });
    expect(servo([["s:PWM", "x:1"], ["x:1", "esp:VP"]]).description.parts).toEqual([{ type: "servo-sg90", id: "servo", pin: 36 }]);
    expect(() => servo([])).toThrow(/s:PWM is not wired to a GPIO of esp: add a wire from it to an ESP32 pin/);
    expect(() => servo([["s:PWM", "esp:18"], ["s:PWM", "esp:19"]])).toThrow(/s:PWM is wired to GPIO18 and GPIO19 at once: those pins are shorted together/);
    const lcd = (attrs: object) => fromWokwiDiagram({ version: 1, parts: [board, { type: "wokwi-lcd1602", id: "l", attrs }], connections: [["l:SDA", "esp:21"], ["l:SCL", "esp:22"]] });
    expect(() => lcd({})).toThrow(/l is an LCD1602 in Wokwi's parallel configuration: esplab models the I2C backpack — set "attrs": \{ "pins": "i2c" \}/);
    expect(() => lcd({ pins: "i2c", i2cAddress: "twenty" })).toThrow(/i2cAddress must be a number like "0x27"/);
    expect(() => fromWokwiDiagram({ version: 1, parts: [{ type: "board-esp32-s3-devkitc-1", id: "esp" }], connections: [] }, "mine.json")).toThrow(
      /mine\.json: no ESP32 board esplab models \(board-esp32-devkit-c-v4 or wokwi-esp32-devkit-v1\): esp \(board-esp32-s3-devkitc-1\) is another chip or board/,
    );
    expect(() => fromWokwiDiagram({ version: 1, parts: [board, { type: "wokwi-membrane-keypad", id: "k", attrs: { columns: "3" } }], connections: [] })).toThrow(/esplab models the 4x4 keypad/);
    expect(() => fromWokwiDiagram([])).toThrow(WiringError);
  });

  it("never fails on JSON-shaped input with anything but a WiringError (property)", () => {
    const endpoint = fc.oneof(fc.constantFrom("esp:constructor", "esp:toString", "esp:21", "esp:D21", "esp:VP", "lcd1:SDA", "lcd1:SCL", "k:R1", "s:PWM", "ir:OUT", "esp"), fc.string());
    const part = fc.record({ type: fc.oneof(fc.constantFrom("valueOf", "constructor", "__proto__", "board-esp32-devkit-c-v4", "wokwi-esp32-devkit-v1", "wokwi-lcd1602", "wokwi-membrane-keypad", "wokwi-servo", "esplab-fc51", "esplab-gp2y0a21", "wokwi-led"), fc.string()), id: fc.constantFrom("esp", "lcd1", "k", "s", "ir", "x"), attrs: fc.option(fc.dictionary(fc.constantFrom("pins", "i2cAddress", "columns"), fc.oneof(fc.string(), fc.constant("i2c"), fc.integer())), { nil: undefined }) });
    const diagram = fc.oneof(
      fc.record({ version: fc.constant(1), parts: fc.array(part, { maxLength: 8 }), connections: fc.array(fc.tuple(endpoint, endpoint), { maxLength: 30 }) }),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(diagram, (input) => {
        try {
          fromWokwiDiagram(input);
        } catch (error) {
          if (!(error instanceof WiringError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("reads a diagram of 200,000 wires in one net without the time growing with the square of it", () => {
    const connections: string[][] = [["s:PWM", "w:0"]];
    for (let i = 0; i < 200_000; i++) connections.push([`w:${i}`, `w:${i + 1}`]);
    connections.push(["w:200000", "esp:18"]);
    const { description } = fromWokwiDiagram({ version: 1, parts: [{ type: "board-esp32-devkit-c-v4", id: "esp" }, { type: "wokwi-servo", id: "s" }], connections });
    expect(description.parts).toEqual([{ type: "servo-sg90", id: "servo", pin: 18 }]);
  });
});
