import { parseArgs } from "node:util";
import { CONNECTION_FLAGS, CONNECTION_HELP, afterMode, connectFromFlags, finishSession } from "../flash/operations/connection-options.ts";

const USAGE = `usage: esplab erase-flash [options]
Erases the whole flash (needs the flasher stub; takes up to a couple of minutes on large chips).

${CONNECTION_HELP}`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: CONNECTION_FLAGS });
  if (values.help) return (console.log(USAGE), 0);
  const log = values.json ? () => {} : (message: string) => console.error(message);
  const session = await connectFromFlags(values, log, 115200);
  try {
    log("Erasing the whole flash...");
    await session.loader.eraseFlash();
  } catch (error) {
    await session.close();
    throw error;
  }
  await finishSession(session, values.after === undefined ? "no-reset" : afterMode(values), log);
  if (values.json) console.log(JSON.stringify({ erased: session.flashSize }));
  else log("Flash erased");
  return 0;
}
