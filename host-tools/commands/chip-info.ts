import { parseArgs } from "node:util";
import { sizeName as formatSize } from "../flash/image/flash-size.ts";
import { CONNECTION_FLAGS, CONNECTION_HELP, withSession } from "../flash/operations/connection-options.ts";

const USAGE = `usage: esplab chip-info --port PORT [options]
Connects to the board in download mode and prints chip, revision, features, MAC and flash size.

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: CONNECTION_FLAGS });
  if (values.help) return (console.log(USAGE), 0);
  const log = (message: string) => console.error(message);
  const { chip, flashId, flashSize } = await withSession(values, values.json ? () => {} : log, { defaultBaud: 115200, defaultAfter: "no-reset" }, async (session) => session);
  if (values.json) {
    console.log(JSON.stringify({ chip: chip.kind.name, description: chip.description, revision: chip.revision, features: chip.features, mac: chip.mac, flashId: `0x${flashId.toString(16).padStart(6, "0")}`, flashSize }));
  } else {
    console.log(`Chip:       ${chip.description}`);
    console.log(`Features:   ${chip.features.join(", ")}`);
    console.log(`MAC:        ${chip.mac}`);
    console.log(`Flash:      ${formatSize(flashSize)} (JEDEC id 0x${flashId.toString(16).padStart(6, "0")})`);
  }
  return 0;
}
