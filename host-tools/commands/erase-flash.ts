import { parseArgs } from "node:util";
import { CONNECTION_FLAGS, CONNECTION_HELP, withSession } from "../flash/operations/connection-options.ts";

const USAGE = `usage: esplab erase-flash [options]
Erases the whole flash (needs the flasher stub; takes up to a couple of minutes on large chips).

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: CONNECTION_FLAGS });
  if (values.help) return (console.log(USAGE), 0);
  const log = values.json ? () => {} : (message: string) => console.error(message);
  const size = await withSession(values, log, { defaultBaud: 115200, defaultAfter: "no-reset" }, async (session) => {
    log("Erasing the whole flash...");
    await session.loader.eraseFlash();
    return session.flashSize;
  });
  if (values.json) console.log(JSON.stringify({ erased: size }));
  else log("Flash erased");
  return 0;
}
