import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { decodeEfuses, formatEfuseSummary } from "../flash/efuse/esp32-efuse.ts";
import { readEfuseWords } from "../flash/efuse/read-efuses.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, withSession } from "../flash/operations/connection-options.ts";

const USAGE = `usage: esplab efuse-summary --port PORT [--json] [options]
Reads the ESP32's eFuses (the ESP32's layout; other chips are refused) (read-only: nothing is burned) and prints each documented field as espefuse's summary
does: MAC with its CRC check, chip package and wafer version, flash encryption count, coding scheme, security
and JTAG bits, the key blocks (unless read-protected), each with whether it can still be read and written.

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: CONNECTION_FLAGS });
  if (values.help) return (console.log(USAGE), 0);
  const log = values.json ? () => {} : (message: string) => console.error(message);
  const words = await withSession(values, log, { defaultBaud: 115200, defaultAfter: "no-reset" }, (session) => {
    const { label, name } = session.chip.kind;
    if (name !== "esp32") throw new UsageError("efuse-layout", `efuse-summary decodes the ESP32's eFuse layout; this board is an ${label}, whose eFuses are laid out differently. Use Espressif's espefuse (pip install esptool): espefuse.py --port PORT summary`);
    return readEfuseWords(session.loader);
  });
  const fields = decodeEfuses(words);
  if (values.json) {
    console.log(JSON.stringify({ fields, words }, null, 2));
    return 0;
  }
  process.stdout.write(formatEfuseSummary(fields));
  const count = Number(fields.find((field) => field.name === "FLASH_CRYPT_CNT")!.value);
  const set = count.toString(2).replace(/0/g, "").length;
  console.log(`Flash encryption: ${set % 2 === 1 ? "ON" : "off"} (FLASH_CRYPT_CNT has ${set} bit(s) set; odd means on)`);
  return 0;
}
