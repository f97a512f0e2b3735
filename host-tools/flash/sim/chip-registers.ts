import { CHIP_MAGIC_REGISTER } from "../chips/chip-family.ts";
import type { ChipProfile } from "./chip-profiles.ts";

const SPI_CMD_USR = 1 << 18;
const SPIFLASH_RDID = 0x9f;
const XTAL_HZ = 40_000_000;

/**
 * The registers of a simulated chip in download mode: its profile's words (chip magic, eFuses with MAC, package
 * and revision), the UART's baud divider, enough of the SPI controller for a JEDEC id read, and the watchdog
 * writes a host makes to keep a chip on USB-Serial/JTAG from resetting. Anything else reads 0 and keeps what is written.
 */
export class ChipRegisters {
  readonly #values: Map<number, number>;
  readonly #profile: ChipProfile;
  readonly #jedecId: number;
  readonly #baud: () => number;
  #rtcWatchdogOff = false;

  constructor(profile: ChipProfile, mac: Uint8Array, jedecId: number, baud: () => number) {
    this.#profile = profile;
    this.#values = profile.words(mac);
    this.#values.set(CHIP_MAGIC_REGISTER, profile.magic >>> 0);
    this.#jedecId = jedecId;
    this.#baud = baud;
  }

  read(address: number): number {
    if (address === this.#profile.uartClockDivider) return Math.round(XTAL_HZ / this.#baud());
    return this.#values.get(address) ?? 0;
  }

  write(address: number, value: number, mask: number): void {
    const old = this.#values.get(address) ?? 0;
    const next = ((old & ~mask) | (value & mask)) >>> 0;
    const watchdogs = this.#profile.family.watchdogs;
    // The RTC watchdog's configuration only changes while its write protection is unlocked with the key.
    if (watchdogs && address === watchdogs.wdtConfig0 && (this.#values.get(watchdogs.wdtProtect) ?? 0) === watchdogs.wdtKey) this.#rtcWatchdogOff = next === 0;
    this.#values.set(address, next);
    const spi = this.#profile.family.spi;
    if (address === spi.cmd && value & SPI_CMD_USR) this.#runSpiCommand();
  }

  /** Whether the RTC watchdog was turned off (config 0 cleared while unlocked) and the super watchdog set to feed itself. */
  get watchdogsDisabled(): boolean {
    const watchdogs = this.#profile.family.watchdogs;
    if (!watchdogs) return true;
    return this.#rtcWatchdogOff && ((this.#values.get(watchdogs.swdConfig) ?? 0) & watchdogs.swdAutoFeed) !== 0;
  }

  /** The SPI controller "runs" the user command at once and clears the busy bit. */
  #runSpiCommand(): void {
    const spi = this.#profile.family.spi;
    const command = (this.#values.get(spi.usr2) ?? 0) & 0xffff;
    if (command === SPIFLASH_RDID) this.#values.set(spi.w0, this.#jedecId);
    this.#values.set(spi.cmd, (this.#values.get(spi.cmd) ?? 0) & ~SPI_CMD_USR);
  }
}
