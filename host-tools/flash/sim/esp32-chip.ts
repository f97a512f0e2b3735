import { EsplabError } from "../../../firmware/core/errors.ts";
import { Op, dataChecksum, opName } from "../protocol/commands.ts";
import { decodeRequest, encodeResponse, type Request } from "../protocol/packets.ts";
import { SlipDecoder, slipEncode } from "../protocol/slip.ts";
import { CommandFaults, ReplyFaults, type CommandFault, type ReplyFault } from "./faults.ts";
import { StreamInflater } from "./inflater.ts";
import { BLOCK, FLASH_TIMING, SECTOR, type SimulatedFlash } from "./spi-flash.ts";
import type { ChipName } from "../chips/chip-family.ts";
import { ChipRegisters } from "./chip-registers.ts";
import { chipProfile, esp32Calibration, esp32RomCrystalEstimate, type ChipProfile } from "./chip-profiles.ts";
import { ESP32_RTC_CALI_CFG1 } from "../chips/esp32.ts";
import { CHIP_TIMING } from "./timing.ts";

export interface ChipSimOptions {
  flash: SimulatedFlash;
  /** Which chip of the family (ESP32 unless told): its registers, eFuses, GET_SECURITY_INFO and ROM quirks. */
  chip?: ChipName;
  /** Station MAC; the chip profile's (Espressif's OUI) by default. */
  mac?: Uint8Array;
  /** 1 runs flash operations in modelled real time, 0 makes them instant (tests), 0.1 ten times faster. */
  timeScale?: number;
  /**
   * The chip is on its own USB-Serial/JTAG port, where the ROM leaves the RTC watchdog running: unless a host turns
   * the watchdogs off, the chip resets (back into the ROM loader, the stub and any write gone) after this many
   * commands. Counted in commands, not time, so tests do not depend on the machine's speed.
   */
  usbSerialJtag?: { watchdogCommands: number };
  /** A chip-magic value to report instead of the profile's (another revision of the chip). */
  chipMagic?: number;
  /**
   * ESP32 only: the crystal frequency its ROM believes it has (its 8 MHz clock drifts; 40 MHz by default). A ROM-mode
   * baud change then sets the rate the ROM computes from that belief, as the real ROM does.
   */
  romCrystalEstimate?: number;
  /** Refuse RAM uploads (MEM_BEGIN), as a ROM in secure download mode does: no stub can run. */
  refuseRamUpload?: boolean;
  /** Commands damaged on their way in (see CommandFault). */
  commandFaults?: CommandFault[];
  /** Answers lost, damaged or late (see ReplyFault). */
  replyFaults?: ReplyFault[];
}

type Mode = "rom" | "stub" | "user-code";

/** A write in progress between FLASH_(DEFL_)BEGIN and the last block. */
interface FlashWrite {
  offset: number;
  size: number;
  blockSize: number;
  blocks: number;
  nextSeq: number;
  written: number;
  inflater?: StreamInflater;
}

interface MemoryUpload {
  address: number;
  size: number;
  bytes: number[];
  nextSeq: number;
}

class ChipRefusal extends EsplabError {
  constructor(readonly status: number, message: string) {
    super("chip-refusal", message);
  }
}

const ROM_ERROR = { invalidMessage: 0x05, failed: 0x06, badChecksum: 0x07, deflate: 0x0b } as const;
const STUB_ERROR = { badLength: 0xc0, badChecksum: 0xc1, badBlockSize: 0xc2, invalid: 0xc3, notInFlashMode: 0xc6, inflate: 0xc7, tooMuch: 0xc9, notImplemented: 0xff } as const;
const SYNC_VALUE_ROM = 0x20120707;

/**
 * An ESP32-family chip (the ESP32 unless told: options.chip) in serial download mode. Bytes from the wire go in through `receive`, replies come out through `send`.
 * It speaks the ROM loader protocol and, once code is uploaded to RAM and started, the flasher stub's protocol: the ROM
 * cannot tell one stub from another, so esptool.py's, esptool-js's and esplab's (which is esptool-js's) all work.
 * Timing (timing.ts has the whole model and what it leaves out): flash erase/program times from FLASH_TIMING and
 * inflating from CHIP_TIMING, scaled by timeScale; the UART and the USB adapter are modelled by the Uart in front.
 */
export class SimulatedEsp32 {
  baud = 115200;
  mode: Mode = "rom";
  /** How many times each command was received (by name), for tests and benchmarks. */
  readonly commandCounts = new Map<string, number>();
  onBaudChange: ((baud: number) => void) | undefined;
  /** How many times the RTC watchdog reset the chip (see usbSerialJtag). */
  watchdogResets = 0;

  readonly #flash: SimulatedFlash;
  readonly #send: (bytes: Uint8Array) => void;
  readonly #timeScale: number;
  readonly #decoder = new SlipDecoder(0x4000 + 0x400);
  readonly #registers: ChipRegisters;
  readonly #profile: ChipProfile;
  readonly #usbSerialJtag: { watchdogCommands: number } | undefined;
  #commandsSinceReset = 0;
  #queue: Promise<void> = Promise.resolve();
  #attached = false;
  #write: FlashWrite | undefined;
  #erasedUpTo = 0;
  #memory: MemoryUpload[] = [];
  #busyUntil = 0;
  #readAck: ((total: number) => void) | undefined;
  readonly #refuseRamUpload: boolean;
  readonly #commandFaults: CommandFaults;
  readonly #replyFaults: ReplyFaults;
  /** The fault on the answers to the command being handled. */
  #replyFault: ReplyFault | undefined;

  constructor(options: ChipSimOptions, send: (bytes: Uint8Array) => void) {
    this.#flash = options.flash;
    this.#send = send;
    this.#timeScale = options.timeScale ?? 0;
    const profile = chipProfile(options.chip ?? "esp32");
    this.#profile = options.chipMagic === undefined ? profile : { ...profile, magic: options.chipMagic };
    this.#registers = new ChipRegisters(this.#profile, options.mac ?? profile.defaultMac, this.#flash.jedecId, () => this.baud);
    if (options.romCrystalEstimate !== undefined) this.#registers.write(ESP32_RTC_CALI_CFG1, esp32Calibration(options.romCrystalEstimate) << 7, 0xffffffff);
    this.#usbSerialJtag = options.usbSerialJtag;
    this.#refuseRamUpload = options.refuseRamUpload ?? false;
    this.#commandFaults = new CommandFaults(options.commandFaults);
    this.#replyFaults = new ReplyFaults(options.replyFaults);
  }

  receive(bytes: Uint8Array): void {
    if (this.mode === "user-code") return;
    for (const event of this.#decoder.push(bytes)) {
      if (event.kind !== "frame") continue;
      // While the stub streams a flash read, 4-byte packets are the host's acknowledgements, not commands.
      if (this.#readAck && event.data.length === 4) {
        this.#readAck(new DataView(event.data.buffer, event.data.byteOffset).getUint32(0, true));
        continue;
      }
      const frame = event.data;
      this.#queue = this.#queue.then(() => this.#handleFrame(frame));
    }
  }

  /** Resolves when every received command has been handled. */
  idle(): Promise<void> {
    return this.#queue;
  }

  async #handleFrame(frame: Uint8Array): Promise<void> {
    if (this.mode === "user-code") return;
    let request: Request;
    try {
      request = decodeRequest(frame);
    } catch {
      // A packet damaged on the way: the ROM answers "invalid message" for the op it can read, if any.
      if (frame.length >= 2 && frame[0] === 0) this.#reply(frame[1]!, 0, new Uint8Array(), this.#isStub ? STUB_ERROR.badLength : ROM_ERROR.invalidMessage);
      return;
    }
    request = { ...request, data: this.#commandFaults.apply(request.op, request.data) };
    const name = opName(request.op);
    this.commandCounts.set(name, (this.commandCounts.get(name) ?? 0) + 1);
    if (this.#usbSerialJtag && !this.#registers.watchdogsDisabled && ++this.#commandsSinceReset > this.#usbSerialJtag.watchdogCommands) {
      this.watchdogResets++;
      return this.#resetIntoLoader("rst:0x10 (RTCWDT_RTC_RST),boot:0x0 (DOWNLOAD(USB/UART0))\r\nwaiting for download");
    }
    this.#replyFault = this.#replyFaults.next(request.op);
    // A busy chip: the commands behind this one wait too, as on the real UART.
    if (this.#replyFault?.effect === "late") await delay(this.#replyFault.ms ?? 1000);
    try {
      await this.#dispatch(request);
    } catch (error) {
      if (!(error instanceof ChipRefusal)) throw error;
      this.#reply(request.op, 0, new Uint8Array(), error.status);
    }
  }

  get #isStub(): boolean {
    return this.mode === "stub";
  }

  async #dispatch(request: Request): Promise<void> {
    const { op, data } = request;
    switch (op) {
      case Op.SYNC:
        if (this.#isStub) return this.#reply(op, 0);
        for (let i = 0; i < 8; i++) this.#reply(op, SYNC_VALUE_ROM);
        return;
      case Op.READ_REG:
        return this.#reply(op, this.#registers.read(this.#word(data, 0)));
      case Op.WRITE_REG:
        for (let at = 0; at + 16 <= data.length; at += 16) {
          const group = data.subarray(at, at + 16);
          this.#registers.write(this.#word(group, 0), this.#word(group, 1), this.#word(group, 2));
        }
        return this.#reply(op, 0);
      case Op.SPI_ATTACH:
        this.#attached = true;
        return this.#reply(op, 0);
      case Op.SPI_SET_PARAMS:
        // The simulated part knows its own geometry; the parameters are only checked for shape.
        if (data.length < 24) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, "SPI_SET_PARAMS needs 6 words");
        return this.#reply(op, 0);
      case Op.CHANGE_BAUDRATE:
        return this.#changeBaud(this.#word(data, 0));
      case Op.MEM_BEGIN:
        if (this.#refuseRamUpload) this.#refuse(ROM_ERROR.failed, STUB_ERROR.invalid, "RAM uploads are disabled");
        return this.#memBegin(data);
      case Op.MEM_DATA:
        return this.#memData(request);
      case Op.MEM_END:
        return this.#memEnd(data);
      case Op.FLASH_BEGIN:
      case Op.FLASH_DEFL_BEGIN:
        return this.#flashBegin(op, data);
      case Op.FLASH_DATA:
      case Op.FLASH_DEFL_DATA:
        return this.#flashData(request);
      case Op.FLASH_END:
      case Op.FLASH_DEFL_END:
        return this.#flashEnd(op, data);
      case Op.SPI_FLASH_MD5:
        return this.#md5(data);
      case Op.READ_FLASH_SLOW:
        if (this.#isStub) break;
        return this.#readSlow(data);
      case Op.ERASE_FLASH:
        if (!this.#isStub) break;
        await this.#waitForFlash();
        await this.#sleep(this.#flash.eraseAll());
        return this.#reply(op, 0);
      case Op.ERASE_REGION:
        if (!this.#isStub) break;
        return this.#eraseRegion(data);
      case Op.READ_FLASH:
        if (!this.#isStub) break;
        return this.#streamRead(data);
      case Op.GET_SECURITY_INFO:
        if (this.#profile.securityInfo === undefined) break;
        return this.#reply(op, 0, this.#profile.securityInfo);
      case Op.RUN_USER_CODE:
        if (!this.#isStub) break;
        return this.#runUserCode();
    }
    // Unknown to this loader: the ROM answers "invalid message" under another op, which hosts read as "unsupported".
    if (this.#isStub) this.#reply(op, 0, new Uint8Array(), STUB_ERROR.notImplemented);
    else this.#reply(0x00, 0, new Uint8Array(), ROM_ERROR.invalidMessage);
  }

  #reply(op: number, value: number, data: Uint8Array = new Uint8Array(), status = 0): void {
    const statusBytes = this.#isStub ? [status ? 1 : 0, status] : [status ? 1 : 0, status, 0, 0];
    const body = new Uint8Array(data.length + statusBytes.length);
    body.set(data);
    body.set(statusBytes, data.length);
    if (this.#replyFault?.effect === "lost") return;
    if (this.#replyFault?.effect === "damaged") body[0]! ^= 1;
    this.#send(slipEncode(encodeResponse({ op, value, data: body })));
  }

  #word(data: Uint8Array, index: number): number {
    if (data.length < (index + 1) * 4) throw new ChipRefusal(this.#isStub ? STUB_ERROR.badLength : ROM_ERROR.invalidMessage, "short command");
    return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(index * 4, true);
  }

  #refuse(rom: number, stub: number, message: string): never {
    throw new ChipRefusal(this.#isStub ? stub : rom, message);
  }

  #changeBaud(requested: number): void {
    if (requested < 9600 || requested > 5_000_000) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, "baud out of range");
    this.#reply(Op.CHANGE_BAUDRATE, 0);
    // The ESP32's ROM divides the crystal it estimated (not the true 40 MHz) by the rate asked for.
    const estimate = !this.#isStub && this.#profile.family.name === "esp32" ? esp32RomCrystalEstimate((address) => this.#registers.read(address)) : 0;
    const baud = estimate > 0 ? Math.round((requested * 40_000_000) / estimate) : requested;
    this.baud = baud;
    this.onBaudChange?.(baud);
  }

  #memBegin(data: Uint8Array): void {
    const size = this.#word(data, 0);
    const address = this.#word(data, 3);
    this.#memory.push({ address, size, bytes: [], nextSeq: 0 });
    this.#reply(Op.MEM_BEGIN, 0);
  }

  #memData(request: Request): void {
    const upload = this.#memory.at(-1);
    if (!upload) this.#refuse(ROM_ERROR.failed, STUB_ERROR.notInFlashMode, "MEM_DATA without MEM_BEGIN");
    const { size, seq, payload } = this.#block(request);
    if (seq === upload.nextSeq - 1) return this.#reply(Op.MEM_DATA, 0);
    if (seq !== upload.nextSeq) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, "out-of-order MEM_DATA");
    upload.bytes.push(...payload.subarray(0, size));
    upload.nextSeq++;
    this.#reply(Op.MEM_DATA, 0);
  }

  #memEnd(data: Uint8Array): void {
    const stayInLoader = this.#word(data, 0) !== 0;
    const entry = this.#word(data, 1);
    this.#reply(Op.MEM_END, 0);
    if (stayInLoader) return;
    // The ROM cannot tell a stub from other code: it jumps to the entry point. Whatever was uploaded there (esptool's
    // stub, esptool-js's, a newer release of either) is taken to be a flasher stub speaking the stub protocol.
    if (this.#memory.some((upload) => entry >= upload.address && entry < upload.address + upload.bytes.length)) {
      // esptool's stub attaches the SPI flash itself when it starts.
      this.mode = "stub";
      this.#attached = true;
      this.#memory = [];
      this.#send(slipEncode(new TextEncoder().encode("OHAI")));
    } else {
      // A jump to where nothing was uploaded: the chip leaves the loader and stops answering.
      this.mode = "user-code";
    }
  }

  async #flashBegin(op: number, data: Uint8Array): Promise<void> {
    if (!this.#attached) this.#refuse(ROM_ERROR.failed, STUB_ERROR.notInFlashMode, "flash not attached (SPI_ATTACH missing)");
    const size = this.#word(data, 0);
    const blocks = this.#word(data, 1);
    const blockSize = this.#word(data, 2);
    const offset = this.#word(data, 3);
    // The later chips' ROMs take a fifth word, 1 to write through the flash encryption, which is not simulated.
    if (!this.#isStub && data.length >= 20 && this.#word(data, 4) !== 0) this.#refuse(ROM_ERROR.failed, STUB_ERROR.invalid, "encrypted writes are not simulated");
    if (offset + size > this.#flash.size) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.tooMuch, "write past the end of flash");
    if (blockSize === 0 || blockSize > 0x4000) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badBlockSize, "bad block size");
    // The ROM erases from the offset itself, which its erase routine refuses unless it starts a sector (esptool pads
    // ROM writes to a sector for this reason); the stub rounds down and erases from there.
    if (!this.#isStub && offset % SECTOR !== 0) this.#refuse(ROM_ERROR.failed, STUB_ERROR.invalid, "flash offset not sector aligned");
    await this.#waitForFlash();
    this.#write?.inflater?.close();
    const compressed = op === Op.FLASH_DEFL_BEGIN;
    this.#write = { offset, size, blockSize, blocks, nextSeq: 0, written: 0, inflater: compressed ? new StreamInflater() : undefined };
    if (this.#isStub) {
      // The stub erases sector by sector just ahead of writing.
      this.#erasedUpTo = offset - (offset % SECTOR);
    } else if (size > 0) {
      // The ROM erases the whole region before it acknowledges FLASH_BEGIN.
      const start = offset - (offset % SECTOR);
      await this.#sleep(this.#flash.erase(start, offset + size - start));
    }
    this.#reply(op, 0);
  }

  async #flashData(request: Request): Promise<void> {
    const write = this.#write;
    const compressed = request.op === Op.FLASH_DEFL_DATA;
    if (!write || (write.inflater !== undefined) !== compressed) this.#refuse(ROM_ERROR.failed, STUB_ERROR.notInFlashMode, "no matching FLASH_BEGIN");
    const { size, seq, payload } = this.#block(request);
    // A block the host resends because our acknowledgement was lost: acknowledge it again, write nothing.
    if (seq === write.nextSeq - 1) return this.#reply(request.op, 0);
    if (seq !== write.nextSeq) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, `block ${seq} out of order (expected ${write.nextSeq})`);
    if (!compressed && size !== write.blockSize) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badBlockSize, "block not padded to the block size");
    let bytes = payload;
    if (write.inflater) {
      try {
        bytes = await write.inflater.push(payload);
      } catch {
        this.#write = undefined;
        this.#refuse(ROM_ERROR.deflate, STUB_ERROR.inflate, "corrupt deflate stream");
      }
    }
    const remaining = write.size - write.written;
    if (bytes.length > remaining) {
      if (compressed) this.#refuse(ROM_ERROR.deflate, STUB_ERROR.tooMuch, "more data than announced");
      bytes = bytes.subarray(0, remaining);
    }
    write.nextSeq++;
    const inflateMs = compressed ? bytes.length / CHIP_TIMING.inflateBytesPerMs : 0;
    const address = write.offset + write.written;
    write.written += bytes.length;
    if (this.#isStub) {
      // The stub acknowledges on receipt and programs while the next block arrives.
      await this.#waitForFlash();
      this.#reply(request.op, 0);
      this.#busyUntil = Math.max(this.#busyUntil, performance.now()) + this.#scaled(inflateMs + this.#eraseAhead(address + bytes.length, write.offset + write.size) + this.#flash.program(address, bytes));
    } else {
      await this.#sleep(inflateMs + this.#flash.program(address, bytes));
      this.#reply(request.op, 0);
    }
  }

  /** Erases just ahead of the write: a 64 KB block where aligned and wholly inside the region, else a sector. */
  #eraseAhead(end: number, regionEnd: number): number {
    let ms = 0;
    while (this.#erasedUpTo < end) {
      const step = this.#erasedUpTo % BLOCK === 0 && regionEnd - this.#erasedUpTo >= BLOCK ? BLOCK : SECTOR;
      ms += this.#flash.erase(this.#erasedUpTo, step);
      this.#erasedUpTo += step;
    }
    return ms;
  }

  async #flashEnd(op: number, data: Uint8Array): Promise<void> {
    const reboot = data.length >= 4 && this.#word(data, 0) === 0;
    await this.#waitForFlash();
    this.#write?.inflater?.close();
    this.#write = undefined;
    this.#reply(op, 0);
    if (!reboot) return;
    // The ROM's "reboot" leaves the loader for the app. The stub's (FLASH_END only) is a software system reset, which
    // keeps the strapped boot mode, so the chip comes back in the ROM loader at 115200 baud (esptool's
    // flasher_stub/stub_flasher.c, software_reset(); esptool's soft_reset(stay_in_bootloader=True) relies on it).
    if (!this.#isStub) this.#runUserCode();
    else if (op === Op.FLASH_END) this.#resetIntoLoader();
  }

  #resetIntoLoader(reason = this.#profile.bootReasons.download): void {
    this.mode = "rom";
    this.#attached = false;
    this.#write?.inflater?.close();
    this.#write = undefined;
    this.#memory = [];
    this.#commandsSinceReset = 0;
    this.baud = 115200;
    this.onBaudChange?.(this.baud);
    this.#send(new TextEncoder().encode(`${this.#profile.romBanner}\r\n\r\n${reason}\r\n`));
  }

  #block(request: Request): { size: number; seq: number; payload: Uint8Array } {
    const size = this.#word(request.data, 0);
    const seq = this.#word(request.data, 1);
    const payload = request.data.subarray(16);
    if (payload.length !== size) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, `block announces ${size} bytes, carries ${payload.length}`);
    if (dataChecksum(payload) !== (request.checksum & 0xff)) this.#refuse(ROM_ERROR.badChecksum, STUB_ERROR.badChecksum, "checksum mismatch");
    return { size, seq, payload };
  }

  async #md5(data: Uint8Array): Promise<void> {
    const address = this.#word(data, 0);
    const size = this.#word(data, 1);
    if (address + size > this.#flash.size) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, "MD5 past the end of flash");
    await this.#waitForFlash();
    await this.#sleep(size / FLASH_TIMING.hashBytesPerMs);
    const digest = this.#flash.md5(address, size);
    const body = this.#isStub ? digest : new TextEncoder().encode(Buffer.from(digest).toString("hex"));
    this.#reply(Op.SPI_FLASH_MD5, 0, body);
  }

  #readSlow(data: Uint8Array): void {
    const address = this.#word(data, 0);
    const size = this.#word(data, 1);
    if (size > 64 || address + size > this.#flash.size) this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, "bad read");
    this.#reply(Op.READ_FLASH_SLOW, 0, this.#flash.read(address, size));
  }

  async #eraseRegion(data: Uint8Array): Promise<void> {
    const address = this.#word(data, 0);
    const size = this.#word(data, 1);
    if (address % SECTOR !== 0 || size % SECTOR !== 0 || address + size > this.#flash.size) {
      this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, "erase region not sector aligned or past the end");
    }
    await this.#waitForFlash();
    await this.#sleep(this.#flash.erase(address, size));
    this.#reply(Op.ERASE_REGION, 0);
  }

  /** Stub READ_FLASH: acknowledge, stream packets with at most `inflight` unacknowledged, then the MD5 of it all. */
  async #streamRead(data: Uint8Array): Promise<void> {
    const address = this.#word(data, 0);
    const size = this.#word(data, 1);
    const packetSize = this.#word(data, 2);
    const inflight = this.#word(data, 3);
    if (address + size > this.#flash.size || packetSize === 0 || packetSize > 0x4000 || inflight === 0) {
      this.#refuse(ROM_ERROR.invalidMessage, STUB_ERROR.badLength, "bad read request");
    }
    await this.#waitForFlash();
    this.#reply(Op.READ_FLASH, 0);
    let acked = 0;
    let wake: (() => void) | undefined;
    this.#readAck = (total) => {
      acked = Math.max(acked, total);
      wake?.();
    };
    try {
      let sent = 0;
      while (acked < size) {
        if (sent < size && sent < acked + inflight * packetSize) {
          const chunk = this.#flash.read(address + sent, Math.min(packetSize, size - sent));
          this.#send(slipEncode(chunk));
          sent += chunk.length;
          continue;
        }
        // A host that stops acknowledging ends the read, as the stub's own timeout would.
        const gaveUp = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), 3000);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        if (gaveUp) return;
      }
      this.#send(slipEncode(this.#flash.md5(address, size)));
    } finally {
      this.#readAck = undefined;
    }
  }

  #runUserCode(): void {
    this.mode = "user-code";
    this.#send(new TextEncoder().encode(`${this.#profile.romBanner}\r\n\r\n${this.#profile.bootReasons.app}\r\n`));
  }

  async #waitForFlash(): Promise<void> {
    const wait = this.#busyUntil - performance.now();
    if (wait > 0) await delay(wait);
  }

  #scaled(ms: number): number {
    return ms * this.#timeScale;
  }

  async #sleep(ms: number): Promise<void> {
    const scaled = this.#scaled(ms);
    if (scaled > 0) await delay(scaled);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
