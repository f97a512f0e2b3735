import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { checkDescription, type BoardDescription } from "../board/description.ts";
import { LAB_WIRING } from "../board/lab-wiring.ts";
import "../board/parts/index.ts";
import { fromWokwiDiagram } from "../board/wokwi-diagram.ts";
import { WiringError } from "../board/wiring-error.ts";
import type { Project } from "./project.ts";

/** A project's board: what is wired where, where it was read from, and what reading it left out. */
export interface ProjectWiring {
  description: BoardDescription;
  /** The file it came from (undefined: the lab's board). */
  file: string | undefined;
  warnings: string[];
}

/** The board a project is wired as: its wiring file, or the lab's board when it names none. */
export function projectWiring(project: Project): ProjectWiring {
  if (!project.wiringFile) return { description: LAB_WIRING, file: undefined, warnings: [] };
  return readWiringFile(project.wiringFile, project.root);
}

/**
 * Reads a wiring file: esplab's board description (JSON or YAML: `i2c` and `parts`) or a Wokwi diagram.json (it has
 * `connections`). Every problem names the file, the part and the fix; nothing is built from a wiring with an error.
 */
export function readWiringFile(file: string, root = process.cwd()): ProjectWiring {
  const shown = path.relative(root, file) || file;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new WiringError("WIRING", `cannot read the wiring file ${shown}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (error) {
    throw new WiringError("WIRING", `${shown} is not valid ${/\.ya?ml$/i.test(file) ? "YAML" : "JSON"}: ${(error as Error).message.split("\n")[0]}`);
  }
  let description: BoardDescription;
  let warnings: string[] = [];
  if (data && typeof data === "object" && "connections" in data) {
    ({ description, warnings } = fromWokwiDiagram(data, shown));
  } else {
    if (!data || typeof data !== "object" || Array.isArray(data) || !Array.isArray((data as BoardDescription).parts)) {
      throw new WiringError("WIRING", `${shown} must hold a board: { "i2c": { "sda": 21, "scl": 22 }, "parts": [ { "type": "lcd1602-i2c", "address": 39 }, … ] } (or be a Wokwi diagram.json)`);
    }
    description = data as BoardDescription;
  }
  const report = checkDescription(description);
  if (report.errors.length) throw new WiringError("WIRING", `${shown} has ${report.errors.length} problem(s):\n  - ${report.errors.join("\n  - ")}`);
  // The description's own warnings (a strapping pin, say) are the board's to report when it is wired.
  return { description: { ...description, name: description.name ?? shown }, file, warnings };
}

/**
 * The firmware settings a wiring implies (the pins and the LCD's address), so the firmware drives the pins the
 * parts are on, on the virtual board and on the device alike. A part that is absent leaves its keys alone.
 */
export function firmwareWiringConfig(description: BoardDescription): FlatConfig {
  const config: FlatConfig = {};
  if (description.i2c) {
    config.i2c_sda = description.i2c.sda;
    config.i2c_scl = description.i2c.scl;
  }
  const first = (type: string) => description.parts.find((part) => part.type === type);
  const lcd = first("lcd1602-i2c");
  if (lcd) config.lcd_address = Number(lcd.address ?? 0x27);
  const keypad = first("keypad-4x4");
  if (keypad) {
    config.keypad_rows = (keypad.rows as number[]).join(",");
    config.keypad_columns = (keypad.columns as number[]).join(",");
  }
  const servo = first("servo-sg90");
  if (servo) config.servo_pin = servo.pin as number;
  const obstacle = first("ir-obstacle");
  const distance = first("ir-gp2y0a21");
  if (obstacle) config.ir_pin = obstacle.pin as number;
  if (distance) config.distance_pin = distance.pin as number;
  if (obstacle && !distance) config.ir_kind = "obstacle";
  if (distance && !obstacle) config.ir_kind = "distance";
  return config;
}
