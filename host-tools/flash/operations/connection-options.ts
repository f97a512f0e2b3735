import { UsageError } from "../../../firmware/core/errors.ts";
import type { ByteLink } from "../link/link.ts";
import { openLink } from "../link/open-link.ts";
import { defaultResets, hardReset } from "../link/reset.ts";
import { describePort } from "../ports/list-ports.ts";
import { parseAmount } from "./numbers.ts";
import { ROM_BAUD, openSession, type Session } from "./session.ts";

/** The flags every chip command shares, in esptool's spirit. */
export const CONNECTION_FLAGS = {
  port: { type: "string", short: "p" },
  baud: { type: "string", short: "b" },
  before: { type: "string" },
  after: { type: "string" },
  "no-stub": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const CONNECTION_HELP = `connection:
  -p, --port PORT     serial device (/dev/ttyUSB0, COM3) or socket://HOST:PORT; default $ESPLAB_PORT
  -b, --baud RATE     transfer rate after connecting (default 921600; falls back to lower rates if the adapter fails)
  --before MODE       default-reset (DTR/RTS into download mode) | no-reset (board already in download mode)
  --after MODE        hard-reset (default: restart into the app) | no-reset (stay in the loader)
  --no-stub           talk to the ROM loader only (slower; no erase commands)
  --json              print a JSON result instead of text`;

export type Before = "default-reset" | "no-reset";
export type After = "hard-reset" | "no-reset";

export interface ConnectionValues {
  port?: string;
  baud?: string;
  before?: string;
  after?: string;
  "no-stub"?: boolean;
  json?: boolean;
}

export function afterMode(values: ConnectionValues): After {
  const after = values.after ?? "hard-reset";
  if (after !== "hard-reset" && after !== "no-reset") throw new UsageError("bad-after", `--after ${after}: use hard-reset or no-reset`);
  return after;
}

function beforeMode(values: ConnectionValues): Before {
  const before = values.before ?? "default-reset";
  if (before !== "default-reset" && before !== "no-reset") throw new UsageError("bad-before", `--before ${before}: use default-reset or no-reset`);
  return before;
}

/** Opens the port and a loader session; progress messages go to `log` (stderr in the CLI). */
export async function connectFromFlags(values: ConnectionValues, log: (message: string) => void, defaultBaud = 921600): Promise<Session> {
  const before = beforeMode(values);
  afterMode(values);
  const baud = values.baud === undefined ? defaultBaud : parseAmount(values.baud, "--baud");
  const link = await openLink(values.port ?? process.env.ESPLAB_PORT, ROM_BAUD);
  const adapter = link.hasControlLines ? (await describePort(link.name))?.adapter : undefined;
  const usb = adapter?.usbJtag ? "serial-jtag" : adapter?.usbOtg ? "otg" : undefined;
  const resets = before === "no-reset" ? [] : resetsFor(link, usb === "serial-jtag", log);
  return openSession({ link, baud, stub: !values["no-stub"], resets, log, usb });
}

/** The reset strategies for this port, each reporting once when the port turns out to have no DTR/RTS lines. */
function resetsFor(link: ByteLink, usbJtag: boolean, log: (message: string) => void): Array<() => Promise<void>> {
  if (!link.hasControlLines) {
    log(`${link.name} has no DTR/RTS lines: the board must already be in download mode (hold BOOT, tap EN)`);
    return [];
  }
  let warned = false;
  return defaultResets(link, { usbJtag }).map((strategy) => async () => {
    if (!(await strategy.run()) && !warned) {
      warned = true;
      log(`${link.name} has no DTR/RTS lines (a pseudo-terminal?): the board must already be in download mode (hold BOOT, tap EN)`);
    }
  });
}

/** Leaves the chip as --after asks: restarts the app (reset line, or the loader's run command without one). */
async function finishSession(session: Session, after: After, log: (message: string) => void): Promise<void> {
  try {
    if (after === "hard-reset") {
      if (await hardReset(session.loader.link)) {
        log("Hard reset through RTS: the app is starting");
      } else {
        log("No reset lines: asking the loader to start the app");
        await session.loader.runUserCode();
      }
    }
  } finally {
    await session.close();
  }
}

/**
 * Connects, runs `work` on the session, then leaves the chip as --after says (`defaultAfter` when not given). When
 * `work` fails the port is closed and the chip left where it is, so the error is what the user sees.
 */
export async function withSession<T>(
  values: ConnectionValues,
  log: (message: string) => void,
  options: { defaultBaud?: number; defaultAfter?: After },
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const after = values.after === undefined ? (options.defaultAfter ?? "hard-reset") : afterMode(values);
  const session = await connectFromFlags(values, log, options.defaultBaud);
  let result: T;
  try {
    result = await work(session);
  } catch (error) {
    await session.close();
    throw error;
  }
  await finishSession(session, after, log);
  return result;
}
