import { UsageError } from "../../../firmware/core/errors.ts";
import type { ByteLink } from "../link/link.ts";
import { CommandFailedError, EspLoader, type ChipInfo, type LoaderTimeouts } from "../loader/esp-loader.ts";
import { sizeName as formatSize } from "../image/flash-size.ts";

/** The ROM loader's rate: every session starts here and may switch up once the stub runs. */
export const ROM_BAUD = 115200;
/** Rates tried, fastest first, when the requested one proves unreliable (CH340 adapters often fail above 460800). */
const FALLBACK_RATES = [921600, 460800, 230400, 115200];

export interface SessionOptions {
  link: ByteLink;
  /** Requested rate for the transfer; the session may settle lower. */
  baud?: number;
  /** Resets into download mode (from the reset strategies); empty for --before no-reset or links without lines. */
  resets?: Array<() => Promise<void>>;
  /** false: stay with the ROM loader (--no-stub). */
  stub?: boolean;
  timeouts?: Partial<LoaderTimeouts>;
  log?: (message: string) => void;
  /** The chip's own USB port, when the link is one (from the port's USB ids): each needs its own care. */
  usb?: UsbPortKind;
}

/** Espressif's USB-Serial/JTAG (S3, C3, C6) or the USB-OTG CDC port of the S2 and S3. */
export type UsbPortKind = "serial-jtag" | "otg";

/** The largest RAM and flash block a USB-OTG port's ROM driver takes (esptool USB_RAM_BLOCK). */
const USB_OTG_BLOCK = 0x800;

export interface Session {
  loader: EspLoader;
  chip: ChipInfo;
  flashId: number;
  flashSize: number;
  baud: number;
  close(): Promise<void>;
}

/** Connects, identifies the chip, starts the stub, settles the baud rate and attaches the flash. */
export async function openSession(options: SessionOptions): Promise<Session> {
  const log = options.log ?? (() => {});
  const loader = new EspLoader(options.link, { timeouts: options.timeouts, log });
  const close = async () => {
    loader.close();
    await options.link.close();
  };
  try {
    log(`Connecting to ${options.link.name}...`);
    const chip = await loader.connect({ resets: options.resets });
    log(`Chip is ${chip.description}, features: ${chip.features.join(", ")}, MAC ${chip.mac}`);
    await prepareUsbPort(loader, options.usb, log);
    // The ROM loader changes baud too: switching first sends the stub (6–8 KB) at the fast rate, about half a
    // second less at 921600 than uploading it at 115200 as esptool does. The stub keeps the UART as it finds it.
    const baud = await settleBaud(loader, options.baud ?? ROM_BAUD, log);
    if (options.stub !== false) await startStubOrStayInRom(loader, log);
    const { flashId, flashSize } = await loader.attachFlash();
    log(`Flash id 0x${flashId.toString(16).padStart(6, "0")}, ${formatSize(flashSize)}`);
    return { loader, chip, flashId, flashSize, baud, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * On USB-Serial/JTAG the ROM leaves the RTC and super watchdogs running, and they reset the chip mid-write: turn
 * them off (unless a stub from an earlier session answered, which already did). On USB-OTG, smaller blocks.
 */
async function prepareUsbPort(loader: EspLoader, usb: UsbPortKind | undefined, log: (message: string) => void): Promise<void> {
  if (usb === "serial-jtag" && !loader.isStub && loader.chip.kind.watchdogs) {
    await loader.disableWatchdogs();
    log("USB-Serial/JTAG port: the chip's RTC and super watchdogs are off for this session");
  }
  if (usb === "otg") {
    loader.limitBlocks(USB_OTG_BLOCK);
    log("USB-OTG port: 2 KB blocks, the most its ROM driver takes");
  }
}

/**
 * Uploads the flasher stub; when the chip refuses the upload (a ROM in secure download mode refuses RAM writes) the
 * session goes on with the ROM loader, slower but complete. A stub that was uploaded but did not start leaves no
 * loader to talk to: that is an error with the fix.
 */
async function startStubOrStayInRom(loader: EspLoader, log: (message: string) => void): Promise<void> {
  try {
    await loader.runStub();
    log("Flasher stub running");
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    log(`The chip refused the flasher stub (${error.message}); continuing with the ROM loader (slower, no erase commands)`);
    await loader.channel.drain(20, 200);
  }
}

async function settleBaud(loader: EspLoader, wanted: number, log: (message: string) => void): Promise<number> {
  if (wanted === ROM_BAUD) return ROM_BAUD;
  if (!Number.isInteger(wanted) || wanted < 9600 || wanted > 5_000_000) throw new UsageError("bad-baud", `--baud ${wanted} is not a usable rate; try 115200, 460800 or 921600`);
  const candidates = [wanted, ...FALLBACK_RATES.filter((rate) => rate < wanted && rate > ROM_BAUD)];
  for (const rate of candidates) {
    if (await loader.changeBaud(rate)) {
      if (rate !== wanted) log(`Using ${rate} baud: the adapter was unreliable at ${wanted}`);
      else log(`Changed baud to ${rate}`);
      return rate;
    }
  }
  log(`Staying at ${ROM_BAUD} baud: the adapter was unreliable at every faster rate`);
  return ROM_BAUD;
}
