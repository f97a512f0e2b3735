import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { checkDescription, partKinds, type BoardDescription } from "../board/description.ts";
import { toWokwiDiagram } from "../board/wokwi-diagram.ts";
import { findProject } from "../project/project.ts";
import { firmwareWiringConfig, projectWiring, readWiringFile } from "../project/wiring-file.ts";

const USAGE = `usage: esplab wiring [FILE] [--wokwi | --esplab] [--out FILE]

Checks a board's wiring and says what is on which pin: FILE, or the project's wiring file (package.json's
"esplab": { "wiring": … }), or the lab's board. FILE is esplab's board description (JSON or YAML) or a Wokwi
diagram.json (the LCD1602 with "pins": "i2c", the membrane keypad, the servo; esplab-fc51 and esplab-gp2y0a21 for
the IR sensors Wokwi lacks, with pins OUT and VO).
  --wokwi       print the wiring as a Wokwi diagram.json (open it on wokwi.com with an ESP32 project)
  --esplab      print it as esplab's board description (JSON)
  --out FILE    write that to FILE instead (never over an existing file)
Part types: ${partKinds().map((kind) => kind.type).join(", ")}.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { wokwi: { type: "boolean", default: false }, esplab: { type: "boolean", default: false }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length > 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.wokwi && values.esplab) throw new UsageError("WIRING", "--wokwi and --esplab each print the wiring in one format: give one of them");
  const wiring = positionals[0] ? readWiringFile(path.resolve(positionals[0])) : projectWiring(findProject());
  const description = wiring.description;
  if (values.wokwi || values.esplab) {
    const text = `${JSON.stringify(values.wokwi ? toWokwiDiagram(description) : description, null, 2)}\n`;
    if (!values.out) {
      process.stdout.write(text);
      return 0;
    }
    if (fs.existsSync(values.out)) throw new UsageError("WIRING", `${values.out} exists: esplab never overwrites a file — give another --out`);
    fs.writeFileSync(values.out, text);
    console.log(`wrote ${values.out}`);
    return 0;
  }
  console.log(`${description.name ?? "board"}${wiring.file ? `  (${path.relative(process.cwd(), wiring.file) || wiring.file})` : "  (the lab's board)"}`);
  for (const line of describeBoard(description)) console.log(`  ${line}`);
  for (const warning of wiring.warnings) console.log(`  note: ${warning}`);
  for (const warning of checkDescription(description).warnings) console.log(`  warning: ${warning}`);
  const config = firmwareWiringConfig(description);
  console.log(`the firmware gets: ${Object.entries(config).map(([key, value]) => `${key}=${value}`).join(" ")}`);
  return 0;
}

/** One line a part: its type, id and pins. */
function describeBoard(description: BoardDescription): string[] {
  const lines = description.i2c ? [`I2C bus: SDA GPIO${description.i2c.sda}, SCL GPIO${description.i2c.scl}`] : [];
  for (const part of description.parts) {
    const { type, id, ...fields } = part;
    const shown = Object.entries(fields).map(([key, value]) => `${key} ${key === "address" ? `0x${Number(value).toString(16)}` : Array.isArray(value) ? value.join(",") : String(value)}`);
    lines.push(`${(id ?? type).padEnd(10)} ${type.padEnd(14)} ${shown.join(", ")}`);
  }
  return lines;
}
