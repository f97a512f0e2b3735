import type { ByteLink, ControlLines } from "./link.ts";

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A way to put the chip into download mode through DTR and RTS. On common boards DTR and RTS drive IO0 and EN through
 * a transistor pair: RTS low→high holds EN (reset), DTR high pulls IO0 low (boot into the ROM loader).
 * Returns false when the link has no modem lines (nothing was done).
 */
export type ResetStrategy = { name: string; run(): Promise<boolean> };

/**
 * esptool's classic reset, one line at a time as separate calls: EN low (IO0 high), 100 ms, IO0 low and EN high,
 * `delayMs`, IO0 released.
 */
export function classicReset(link: ByteLink, delayMs = 50, sleep: Sleep = realSleep): ResetStrategy {
  return {
    name: `classic (${delayMs} ms)`,
    async run() {
      const steps: Array<ControlLines | number> = [
        { dtr: false, rts: false },
        { dtr: false, rts: true },
        100,
        { dtr: true, rts: true },
        { dtr: true, rts: false },
        delayMs,
        { dtr: false, rts: false },
      ];
      return play(link, steps, sleep);
    },
  };
}

/** esptool's "unix tight" reset: both lines in one call each step, never passing through a glitchy state. */
export function tightReset(link: ByteLink, delayMs = 50, sleep: Sleep = realSleep): ResetStrategy {
  return {
    name: `tight (${delayMs} ms)`,
    async run() {
      return play(link, [{ dtr: false, rts: false }, { dtr: true, rts: true }, { dtr: false, rts: true }, 100, { dtr: true, rts: false }, delayMs, { dtr: false, rts: false }], sleep);
    },
  };
}

/** The ESP32-S3/C3 built-in USB-Serial/JTAG: its own sequence (it reads DTR/RTS as IO0/EN directly). */
export function usbJtagReset(link: ByteLink, sleep: Sleep = realSleep): ResetStrategy {
  return {
    name: "USB-Serial/JTAG",
    async run() {
      return play(link, [{ dtr: false, rts: false }, 100, { dtr: true, rts: false }, 100, { dtr: false, rts: true }, 100, { dtr: false, rts: false }], sleep);
    },
  };
}

/** Restarts the chip into its app: EN pulsed low for 100 ms with IO0 left high. */
export function hardReset(link: ByteLink, sleep: Sleep = realSleep): Promise<boolean> {
  return play(link, [{ dtr: false, rts: true }, 100, { dtr: false, rts: false }], sleep);
}

/**
 * What `--before default-reset` tries, one per connection attempt, cycling (esptool's order): the tight sequence with
 * a short then a long IO0 hold, then the classic one; the USB-JTAG sequence alone for an Espressif USB-JTAG port.
 */
export function defaultResets(link: ByteLink, options: { usbJtag?: boolean; sleep?: Sleep } = {}): ResetStrategy[] {
  const sleep = options.sleep ?? realSleep;
  if (options.usbJtag) return [usbJtagReset(link, sleep)];
  return [tightReset(link, 50, sleep), tightReset(link, 550, sleep), classicReset(link, 50, sleep), classicReset(link, 550, sleep)];
}

async function play(link: ByteLink, steps: Array<ControlLines | number>, sleep: Sleep): Promise<boolean> {
  for (const step of steps) {
    if (typeof step === "number") await sleep(step);
    else if (!(await link.setLines(step))) return false;
  }
  return true;
}
