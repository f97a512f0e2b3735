import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { EsplabError, ProtocolError, TimeoutError, UsageError } from "../../../firmware/core/errors.ts";
import type { ByteLink } from "../link/link.ts";
import { Op, SYNC_PAYLOAD, TRANSIENT_STATUS, dataChecksum, explainStatus, opName } from "../protocol/commands.ts";
import { decodeResponse, encodeRequest, words, type Response } from "../protocol/packets.ts";
import { CHIP_MAGIC_REGISTER, readMac, type ChipFamily } from "../chips/chip-family.ts";
import { SUPPORTED_LABELS, chipFromId, chipFromMagic, otherChipLabel } from "../chips/known-chips.ts";
import { flashSizeFromId } from "../image/flash-size.ts";
import { PacketChannel } from "./packet-channel.ts";
import { loadStub } from "./stub.ts";

/** The chip answered a command with a failure status. */
export class CommandFailedError extends EsplabError {
  constructor(readonly op: number, readonly status: number) {
    super("command-failed", `${opName(op)} failed: ${explainStatus(status)} (status 0x${status.toString(16)})`);
  }
}

/** The loader on the chip does not implement the command. */
export class UnsupportedCommandError extends EsplabError {}

/** Flash content read back (as an MD5) differs from what was written. */
export class VerifyError extends EsplabError {}

/** Called on each lost or damaged exchange; false stops the retries. */
type RetryHook = (error: unknown) => boolean;

/** Milliseconds; the defaults are esptool's. */
export interface LoaderTimeouts {
  default: number;
  sync: number;
  md5PerMb: number;
  eraseRegionPerMb: number;
  eraseWritePerMb: number;
  chipErase: number;
}

export const DEFAULT_TIMEOUTS: LoaderTimeouts = { default: 3000, sync: 100, md5PerMb: 8000, eraseRegionPerMb: 30_000, eraseWritePerMb: 40_000, chipErase: 120_000 };

export interface LoaderOptions {
  timeouts?: Partial<LoaderTimeouts>;
  /** Tries per command before giving up (esptool: 3). */
  tries?: number;
  log?: (message: string) => void;
}

export interface ChipInfo {
  kind: ChipFamily;
  description: string;
  /** "v3.0": major.minor. */
  revision: string;
  /** The same as numbers, as an image's revision range is written (major × 100 + minor). */
  revisionNumber: number;
  features: string[];
  mac: string;
}

export interface ConnectOptions {
  /** Resets into download mode, one per attempt (cycled); empty when the chip is already there or lines are missing. */
  resets?: Array<() => Promise<void>>;
  attempts?: number;
}

export interface WriteProgress {
  /** Uncompressed bytes of the region acknowledged by the chip so far. */
  written: number;
  total: number;
  /** Bytes sent on the wire for this region (compressed) so far. */
  sent: number;
}

export interface WriteOptions {
  compress?: boolean;
  /** Bytes per data command (defaultBlockSize unless told); smaller blocks survive a noisy line better. */
  blockSize?: number;
  /** Sends of one block before the write gives up (default: tries + 2). */
  blockTries?: number;
  /** Told of every block sent and every damaged or lost one; may end the write early to change the block size. */
  line?: LineObserver;
  onProgress?: (progress: WriteProgress) => void;
}

/** Watches a write's blocks on the line. */
export interface LineObserver {
  blockSent(failed: boolean): void;
  /** After a failure: whether to stop retrying this write (so the caller can go on with smaller blocks). */
  shouldGiveUp(): boolean;
}

const FLASH_BLOCK_ROM = 0x400;
const FLASH_BLOCK_STUB = 0x4000;
const RAM_BLOCK = 0x1800;
/** Reads go in MD5-checked segments, so a damaged packet costs one segment, not the whole read. */
const READ_SEGMENT = 0x8000;
const MB = 1024 * 1024;

/**
 * The host side of the ESP32 serial download protocol: sync, chip detection, the flasher stub, baud changes,
 * compressed flash writes, MD5, reads and erases. One instance drives one link; operations retry damaged or lost
 * packets and raise errors that say what to do.
 */
export class EspLoader {
  readonly channel: PacketChannel;
  isStub = false;
  flashSize: number | undefined;
  #chip: ChipInfo | undefined;
  /** The chip-magic word read at connect: a line check after a baud change reads it again. */
  #magic = 0;
  /** The largest RAM and flash block this link takes (a USB-OTG port takes 2 KB at most). */
  #blockLimit = Infinity;
  readonly #timeouts: LoaderTimeouts;
  readonly #tries: number;
  readonly #log: (message: string) => void;

  constructor(link: ByteLink, options: LoaderOptions = {}) {
    this.channel = new PacketChannel(link);
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.#tries = options.tries ?? 3;
    this.#log = options.log ?? (() => {});
  }

  get link(): ByteLink {
    return this.channel.link;
  }

  get chip(): ChipInfo {
    if (!this.#chip) throw new UsageError("not-connected", "connect() first");
    return this.#chip;
  }

  /** Resets (if it can) and syncs with the ROM loader, then identifies the chip. */
  async connect(options: ConnectOptions = {}): Promise<ChipInfo> {
    const attempts = options.attempts ?? 7;
    const resets = options.resets ?? [];
    let noise = "";
    for (let attempt = 0; attempt < attempts; attempt++) {
      const reset = resets.length > 0 ? resets[attempt % resets.length] : undefined;
      if (reset) await reset();
      if (await this.#trySync()) {
        this.#chip = await this.#identify();
        return this.#chip;
      }
      noise += this.channel.takeNoise();
    }
    throw new NoSyncError(this.link.name, noise, resets.length > 0, this.link.hasControlLines);
  }

  async #trySync(): Promise<boolean> {
    await this.channel.drain(5, 50);
    for (let i = 0; i < 5; i++) {
      try {
        const response = await this.#exchange(Op.SYNC, SYNC_PAYLOAD, 0, this.#timeouts.sync);
        // The ROM answers a SYNC eight times; let the rest arrive and drop them.
        this.isStub = response.value === 0;
        await this.channel.drain(20, 200);
        return true;
      } catch (error) {
        if (!(error instanceof TimeoutError || error instanceof ProtocolError)) throw error;
      }
    }
    return false;
  }

  async #identify(): Promise<ChipInfo> {
    const kind = await this.#detectChip();
    const read = (address: number) => this.readRegister(address);
    const { description, major, minor, features } = await kind.describe(read);
    return { kind, description, revision: `v${major}.${minor}`, revisionNumber: major * 100 + minor, features, mac: await readMac(read, kind.macRegister) };
  }

  /** GET_SECURITY_INFO's chip id where the ROM reports one, else the chip-magic word (as esptool). */
  async #detectChip(): Promise<ChipFamily> {
    const id = await this.#securityInfoChipId();
    this.#magic = await this.readRegister(CHIP_MAGIC_REGISTER);
    const chip = id !== undefined ? chipFromId(id) : chipFromMagic(this.#magic);
    if (chip) return chip;
    const other = otherChipLabel({ id, magic: this.#magic });
    if (other) throw new UsageError("unsupported-chip", `this board is an ${other}; esplab flashes the ${SUPPORTED_LABELS}. Use esptool (pip install esptool) for the ${other}`);
    const what = id !== undefined ? `chip id ${id}` : `magic register 0x${this.#magic.toString(16)}`;
    throw new UsageError("unknown-chip", `unknown chip (${what}): esplab knows the ${SUPPORTED_LABELS}`);
  }

  /** The chip id in GET_SECURITY_INFO's reply: undefined where the loader lacks the command or the reply has none (ESP32-S2). */
  async #securityInfoChipId(): Promise<number | undefined> {
    let response: Response;
    try {
      response = await this.#exchange(Op.GET_SECURITY_INFO, new Uint8Array(), 0, this.#timeouts.default, true);
    } catch (error) {
      if (error instanceof UnsupportedCommandError) return undefined;
      throw error;
    }
    // 20 bytes (flags, flash_crypt_cnt, key purposes, chip id, API version) or the ESP32-S2's 12, then the status.
    const body = response.data.length - (this.isStub ? 2 : 4);
    if (body < 0) throw new ProtocolError("short-reply", `GET_SECURITY_INFO reply has ${response.data.length} bytes`);
    if (response.data[body] !== 0 || body < 20) return undefined;
    return new DataView(response.data.buffer, response.data.byteOffset).getUint32(12, true);
  }

  /** Lets the chip run without its RTC and super watchdogs, which its ROM leaves running on a USB-Serial/JTAG port. */
  async disableWatchdogs(): Promise<void> {
    const watchdogs = this.chip.kind.watchdogs;
    if (!watchdogs) return;
    await this.writeRegister(watchdogs.wdtProtect, watchdogs.wdtKey);
    await this.writeRegister(watchdogs.wdtConfig0, 0);
    await this.writeRegister(watchdogs.wdtProtect, 0);
    await this.writeRegister(watchdogs.swdProtect, watchdogs.swdKey);
    await this.writeRegister(watchdogs.swdConfig, (await this.readRegister(watchdogs.swdConfig)) | watchdogs.swdAutoFeed);
    await this.writeRegister(watchdogs.swdProtect, 0);
  }

  /** Caps RAM and flash blocks for this link (esptool: 2 KB on the ESP32-S2's and S3's USB-OTG port). */
  limitBlocks(size: number): void {
    this.#blockLimit = size;
  }

  /** Sends one command and returns its response (status not checked); skips unrelated packets. */
  async #exchange(op: number, data: Uint8Array, checksum: number, timeoutMs: number, unsupportedOk = false): Promise<Response> {
    await this.channel.send(encodeRequest({ op, checksum, data }));
    const deadline = performance.now() + timeoutMs;
    for (let stray = 0; stray < 100; stray++) {
      const frame = await this.channel.next(deadline - performance.now(), opName(op));
      let response: Response;
      try {
        response = decodeResponse(frame);
      } catch {
        // Most likely the answer itself, damaged on the way: no other answer is coming, so resend now rather
        // than wait out the timeout (a resent block is recognised by its sequence number and written once).
        throw new ProtocolError("damaged-reply", `${opName(op)} reply arrived damaged`);
      }
      if (response.op === op) return response;
      if (unsupportedOk && response.data[0] !== 0 && response.data[1] === 0x05) {
        await this.channel.drain(20, 200);
        throw new UnsupportedCommandError("unsupported", `${opName(op)} is not supported by this chip's loader`);
      }
    }
    throw new ProtocolError("no-matching-reply", `100 packets arrived but none answered ${opName(op)}`);
  }

  /**
   * Sends a command, checks its status and returns the response data before the status bytes. Retries lost or
   * damaged exchanges (timeouts, corrupt packets, checksum refusals) up to `tries` times.
   */
  async command(op: number, data: Uint8Array, options: { checksum?: number; timeoutMs?: number; responseLength?: number; unsupportedOk?: boolean; tries?: number; onRetry?: RetryHook } = {}): Promise<Uint8Array> {
    return (await this.commandWithValue(op, data, options)).data;
  }

  async commandWithValue(op: number, data: Uint8Array, options: { checksum?: number; timeoutMs?: number; responseLength?: number; unsupportedOk?: boolean; tries?: number; onRetry?: RetryHook } = {}): Promise<{ value: number; data: Uint8Array }> {
    const tries = options.tries ?? this.#tries;
    const responseLength = options.responseLength ?? 0;
    let lastError: unknown;
    for (let attempt = 1; attempt <= tries; attempt++) {
      try {
        const response = await this.#exchange(op, data, options.checksum ?? 0, options.timeoutMs ?? this.#timeouts.default, options.unsupportedOk);
        const statusLength = this.isStub ? 2 : 4;
        if (response.data.length < responseLength + 2) {
          const [failed, code] = response.data;
          if (failed) throw new CommandFailedError(op, code ?? 0);
          throw new ProtocolError("short-reply", `${opName(op)} reply has ${response.data.length} bytes, expected ${responseLength + statusLength}`);
        }
        const status = response.data.subarray(responseLength, responseLength + 2);
        // A failure flag with no error code is no answer a loader gives: the reply was damaged on the way.
        if (status[0] !== 0 && status[1] === 0) throw new ProtocolError("damaged-reply", `${opName(op)} reply arrived damaged`);
        if (status[0] !== 0) throw new CommandFailedError(op, status[1]!);
        return { value: response.value, data: response.data.subarray(0, responseLength) };
      } catch (error) {
        const transient = error instanceof TimeoutError || error instanceof ProtocolError || (error instanceof CommandFailedError && TRANSIENT_STATUS.has(error.status));
        // The hook hears of every transient failure, the last one too, and may stop the retries.
        const keepTrying = transient && (options.onRetry?.(error) ?? true);
        if (!transient || attempt === tries || !keepTrying) throw error;
        lastError = error;
        this.#log(`${opName(op)}: ${(error as Error).message}; retrying (${attempt}/${tries - 1})`);
        await this.channel.drain(10, 300);
      }
    }
    throw lastError;
  }

  async readRegister(address: number): Promise<number> {
    const { value } = await this.commandWithValue(Op.READ_REG, words(address));
    return value >>> 0;
  }

  async writeRegister(address: number, value: number, mask = 0xffffffff): Promise<void> {
    await this.command(Op.WRITE_REG, words(address, value, mask, 0));
  }

  /** Uploads and starts the flasher stub (text and data into RAM, then MEM_END with its entry point). */
  async runStub(): Promise<void> {
    if (this.isStub) return;
    const stub = loadStub(this.chip.kind.name);
    const ramBlock = Math.min(RAM_BLOCK, this.#blockLimit);
    for (const [start, image] of [[stub.textStart, stub.text], [stub.dataStart, stub.data]] as const) {
      const blocks = Math.ceil(image.length / ramBlock);
      await this.command(Op.MEM_BEGIN, words(image.length, blocks, ramBlock, start));
      for (let seq = 0; seq < blocks; seq++) {
        const block = image.subarray(seq * ramBlock, (seq + 1) * ramBlock);
        // A 6 KB block on a noisy line at the ROM's 115200 is often damaged; resending one costs half a second.
        await this.command(Op.MEM_DATA, concat(words(block.length, seq, 0, 0), block), { checksum: dataChecksum(block), tries: this.#tries + 5 });
      }
    }
    await this.command(Op.MEM_END, words(0, stub.entry), { tries: 1 });
    const failed = "the flasher stub did not start (no OHAI greeting): its upload was probably damaged on the line, and the chip is now running something else. Reset the board into download mode (hold BOOT, tap EN) and run the command again, or pass --no-stub to use the ROM loader";
    const hello = await this.channel.next(this.#timeouts.default, "the flasher stub's start-up greeting").catch((error: unknown) => {
      throw error instanceof TimeoutError ? new ProtocolError("stub-failed", failed, { cause: error }) : error;
    });
    if (new TextDecoder().decode(hello) !== "OHAI") throw new ProtocolError("stub-failed", failed);
    this.isStub = true;
  }

  /**
   * Switches both ends to `baud` and checks the line with a few register reads. Returns false (back at the old rate)
   * when the adapter cannot keep up, so the caller can try a lower rate.
   */
  async changeBaud(baud: number): Promise<boolean> {
    const old = this.link.baud;
    if (baud === old) return true;
    await this.command(Op.CHANGE_BAUDRATE, words(await this.#baudArgument(baud), this.isStub ? old : 0));
    await this.link.setBaud(baud);
    await this.channel.drain(20, 100);
    if (await this.#lineWorks()) return true;
    this.#log(`the line is unreliable at ${baud} baud; going back to ${old}`);
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.command(Op.CHANGE_BAUDRATE, words(await this.#baudArgument(old), this.isStub ? baud : 0), { tries: 1, timeoutMs: 300 });
        await this.link.setBaud(old);
        await this.channel.drain(20, 100);
        if (await this.#lineWorks()) return false;
      } catch (error) {
        if (!(error instanceof TimeoutError || error instanceof ProtocolError || error instanceof CommandFailedError)) throw error;
      }
    }
    throw new TimeoutError("baud-lost", `lost contact after switching to ${baud} baud; reset the board and re-run with --baud ${old}`);
  }

  /** What to ask for to get `baud`: the stub sets it exactly; the ESP32's ROM computes from its own crystal estimate. */
  async #baudArgument(baud: number): Promise<number> {
    const rom = this.chip.kind.romBaudArgument;
    return !this.isStub && rom ? rom((address) => this.readRegister(address), baud) : baud;
  }

  async #lineWorks(): Promise<boolean> {
    for (let probe = 0; probe < 5; probe++) {
      try {
        const { value } = await this.commandWithValue(Op.READ_REG, words(CHIP_MAGIC_REGISTER), { tries: 1, timeoutMs: 300 });
        if (value >>> 0 !== this.#magic) return false;
      } catch (error) {
        if (error instanceof TimeoutError || error instanceof ProtocolError || error instanceof CommandFailedError) return false;
        throw error;
      }
    }
    return true;
  }

  /** Attaches the SPI flash, reads its JEDEC id and tells the loader its size. Returns the id and size. */
  async attachFlash(): Promise<{ flashId: number; flashSize: number }> {
    await this.command(Op.SPI_ATTACH, this.isStub ? words(0) : words(0, 0));
    const flashId = await this.#readFlashId();
    const flashSize = flashSizeFromId(flashId);
    if (flashSize === undefined) throw new ProtocolError("unknown-flash", `flash id 0x${flashId.toString(16)} has no known size; the flash chip may be missing or not answering`);
    await this.command(Op.SPI_SET_PARAMS, words(0, flashSize, 0x10000, 0x1000, 0x100, 0xffff));
    this.flashSize = flashSize;
    return { flashId, flashSize };
  }

  /** RDID through the SPI controller's user-command registers, as esptool does. */
  async #readFlashId(): Promise<number> {
    const { cmd, usr, usr2, misoLength, w0 } = this.chip.kind.spi;
    const oldUsr = await this.readRegister(usr);
    const oldUsr2 = await this.readRegister(usr2);
    await this.writeRegister(misoLength, 24 - 1);
    await this.writeRegister(usr, (1 << 31) | (1 << 28));
    await this.writeRegister(usr2, (7 << 28) | 0x9f);
    await this.writeRegister(w0, 0);
    await this.writeRegister(cmd, 1 << 18);
    for (let poll = 0; poll < 10 && (await this.readRegister(cmd)) & (1 << 18); poll++);
    const id = (await this.readRegister(w0)) & 0xffffff;
    await this.writeRegister(usr, oldUsr);
    await this.writeRegister(usr2, oldUsr2);
    return id;
  }

  /** The chip's MD5 of a flash range; `onRetry` hears of each lost or damaged exchange before it is resent. */
  async md5(address: number, size: number, options: { onRetry?: () => void } = {}): Promise<string> {
    const timeoutMs = Math.max(this.#timeouts.default, (this.#timeouts.md5PerMb * size) / MB);
    const length = this.isStub ? 16 : 32;
    const onRetry = options.onRetry && (() => (options.onRetry!(), true));
    const body = await this.command(Op.SPI_FLASH_MD5, words(address, size, 0, 0), { timeoutMs, responseLength: length, onRetry });
    return this.isStub ? Buffer.from(body).toString("hex") : new TextDecoder().decode(body).toLowerCase();
  }

  /**
   * Writes one region (compressed unless told otherwise) and checks its MD5 on the chip. Throws VerifyError on a
   * mismatch; the caller decides whether to try again.
   */
  async writeRegion(address: number, data: Uint8Array, options: WriteOptions = {}): Promise<void> {
    const compress = options.compress ?? true;
    const blockSize = options.blockSize ?? this.defaultBlockSize;
    const payload = compress ? new Uint8Array(deflateSync(data, { level: 9 })) : data;
    const blocks = Math.ceil(payload.length / blockSize);
    const ratio = data.length / Math.max(1, payload.length);
    // The ROM erases the whole region before answering BEGIN; the stub erases as it writes.
    const beginTimeout = this.isStub ? this.#timeouts.default : Math.max(this.#timeouts.default, (this.#timeouts.eraseRegionPerMb * data.length) / MB);
    const [beginOp, dataOp] = compress ? [Op.FLASH_DEFL_BEGIN, Op.FLASH_DEFL_DATA] : [Op.FLASH_BEGIN, Op.FLASH_DATA];
    // Through the ROM, compressed writes announce whole sectors (the size it erases), as esptool does.
    const announced = compress && !this.isStub ? Math.ceil(data.length / 0x1000) * 0x1000 : data.length;
    // Later chips' ROMs take a fifth word: 0, not an encrypted write.
    const begin = !this.isStub && this.chip.kind.romBeginHasEncryptFlag ? words(announced, blocks, blockSize, address, 0) : words(announced, blocks, blockSize, address);
    await this.command(beginOp, begin, { timeoutMs: beginTimeout });
    let sent = 0;
    for (let seq = 0; seq < blocks; seq++) {
      let block = payload.subarray(seq * blockSize, (seq + 1) * blockSize);
      if (!compress && block.length < blockSize) block = concat(block, new Uint8Array(blockSize - block.length).fill(0xff));
      const blockTimeout = Math.max(this.#timeouts.default, (this.#timeouts.eraseWritePerMb * block.length * ratio) / MB);
      await this.command(dataOp, concat(words(block.length, seq, 0, 0), block), {
        checksum: dataChecksum(block),
        timeoutMs: blockTimeout,
        tries: options.blockTries ?? this.#tries + 2,
        onRetry: () => {
          options.line?.blockSent(true);
          return !(options.line?.shouldGiveUp() ?? false);
        },
      });
      options.line?.blockSent(false);
      sent += block.length;
      options.onProgress?.({ written: Math.min(data.length, Math.round(sent * ratio)), total: data.length, sent });
    }
    const expected = createHash("md5").update(data).digest("hex");
    const actual = await this.md5(address, data.length);
    if (actual !== expected) {
      throw new VerifyError("md5-mismatch", `flash at 0x${address.toString(16)} reads back with MD5 ${actual}, expected ${expected}`);
    }
  }

  /** The largest block each loader takes: 16 KB for the stub, 1 KB for the ROM (less where the link is limited). */
  get defaultBlockSize(): number {
    return Math.min(this.isStub ? FLASH_BLOCK_STUB : FLASH_BLOCK_ROM, this.#blockLimit);
  }

  /** Reads flash: streamed by the stub (with acknowledgements), 64 bytes per command from the ROM. */
  async readFlash(address: number, size: number, onProgress?: (done: number, total: number) => void): Promise<Uint8Array> {
    const out = new Uint8Array(size);
    if (!this.isStub) {
      for (let at = 0; at < size; at += 64) {
        const length = Math.min(64, size - at);
        out.set(await this.command(Op.READ_FLASH_SLOW, words(address + at, length), { responseLength: length }), at);
        onProgress?.(at + length, size);
      }
      return out;
    }
    for (let at = 0; at < size; at += READ_SEGMENT) {
      const length = Math.min(READ_SEGMENT, size - at);
      for (let attempt = 1; ; attempt++) {
        try {
          out.set(await this.#streamSegment(address + at, length, (done) => onProgress?.(at + done, size)), at);
          break;
        } catch (error) {
          if (!(error instanceof TimeoutError || error instanceof ProtocolError || error instanceof VerifyError) || attempt >= this.#tries + 3) throw error;
          this.#log(`reading 0x${(address + at).toString(16)}: ${error.message}; retrying`);
          // The stub only leaves its read loop once everything is acknowledged: acknowledge it all, let it finish
          // sending, then ask again.
          await this.channel.send(words(length));
          await this.channel.drain(100, 5000);
        }
      }
    }
    return out;
  }

  async #streamSegment(address: number, size: number, onProgress: (done: number) => void): Promise<Uint8Array> {
    const packetSize = 0x1000;
    await this.command(Op.READ_FLASH, words(address, size, packetSize, 64), { tries: 1 });
    const out = new Uint8Array(size);
    let received = 0;
    while (received < size) {
      const packet = await this.channel.next(this.#timeouts.default, "READ_FLASH data");
      if (packet.length > size - received || (packet.length < packetSize && received + packet.length < size)) {
        throw new ProtocolError("bad-read-packet", `READ_FLASH sent a ${packet.length}-byte packet at ${received}/${size}`);
      }
      out.set(packet, received);
      received += packet.length;
      await this.channel.send(words(received));
      onProgress(received);
    }
    const digest = await this.channel.next(this.#timeouts.default, "READ_FLASH digest");
    if (Buffer.from(digest).toString("hex") !== createHash("md5").update(out).digest("hex")) {
      throw new VerifyError("read-md5-mismatch", `data read from 0x${address.toString(16)} does not match the chip's MD5`);
    }
    return out;
  }

  async eraseFlash(): Promise<void> {
    this.#requireStub("erase-flash");
    await this.command(Op.ERASE_FLASH, new Uint8Array(), { timeoutMs: this.#timeouts.chipErase, tries: 1 });
  }

  async eraseRegion(address: number, size: number): Promise<void> {
    this.#requireStub("erase-region");
    if (address % 0x1000 !== 0 || size % 0x1000 !== 0) {
      throw new UsageError("unaligned-erase", `erase-region needs a 4 KB-aligned address and size; got 0x${address.toString(16)} and 0x${size.toString(16)}`);
    }
    const timeoutMs = Math.max(this.#timeouts.default, (this.#timeouts.eraseRegionPerMb * size) / MB);
    await this.command(Op.ERASE_REGION, words(address, size), { timeoutMs, tries: 1 });
  }

  /** Leaves the loader and starts the app without a reset line: RUN_USER_CODE (stub) or FLASH_END(reboot) (ROM). */
  async runUserCode(): Promise<void> {
    if (this.isStub) {
      await this.channel.send(encodeRequest({ op: Op.RUN_USER_CODE, checksum: 0, data: new Uint8Array() }));
    } else {
      await this.command(Op.FLASH_BEGIN, words(0, 0, FLASH_BLOCK_ROM, 0));
      await this.command(Op.FLASH_END, words(0));
    }
  }

  #requireStub(command: string): void {
    if (!this.isStub) throw new UsageError("needs-stub", `${command} needs the flasher stub; run it without --no-stub`);
  }

  close(): void {
    this.channel.close();
  }
}

/** Nothing answered SYNC: the message explains boot mode, wiring and the port, using what the chip printed. */
export class NoSyncError extends EsplabError {
  constructor(port: string, noise: string, triedReset: boolean, hasLines: boolean) {
    const lines = [`could not sync with an ESP32-family chip on ${port}.`];
    if (/boot:0x[0-9a-f]+ \(SPI_FAST_FLASH_BOOT\)/i.test(noise) || /rst:0x/i.test(noise)) {
      lines.push("The chip booted its app instead of the download mode (it printed a normal boot log).");
    } else if (noise.trim()) {
      lines.push(`The port sent text but no loader packets: ${JSON.stringify(noise.trim().slice(-120))}.`);
    } else {
      lines.push("Nothing answered.");
    }
    if (!hasLines) lines.push("This port has no DTR/RTS lines, so esplab cannot reset the board itself.");
    else if (!triedReset) lines.push("No reset was tried (--before no-reset).");
    lines.push("Hold the BOOT (IO0) button, press and release EN (RST), release BOOT, then run the command again.");
    lines.push("Also check: the port is the board's (esplab ports), the USB cable carries data, and no other program has the port open.");
    super("no-sync", lines.join("\n"));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
