import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { UsageError } from "../../../firmware/core/errors.ts";

/**
 * Typical times of a 4 MB SPI NOR flash as in the Winbond W25Q32JV datasheet (the part on most ESP32-WROOM-32
 * modules' generation): page program 0.4 ms per 256 B, sector erase 45 ms per 4 KB, block erase 150 ms per 64 KB,
 * chip erase 10 s. Reading and hashing are not in the datasheet: 4 MB/s is an assumption for the stub's MD5 loop.
 */
export const FLASH_TIMING = {
  pageProgramMs: 0.4,
  sectorEraseMs: 45,
  blockEraseMs: 150,
  chipEraseMs: 10_000,
  hashBytesPerMs: 4096,
} as const;

export const SECTOR = 0x1000;
export const BLOCK = 0x10000;
const PAGE = 0x100;

/** JEDEC id as read back by RDID (0x9F): manufacturer 0xEF (Winbond), type 0x40, capacity 0x16 = 2^22 bytes. */
export const W25Q32_JEDEC_ID = 0x1640ef;

/**
 * A NOR flash: erasing sets bytes to 0xFF, programming can only clear bits (so writing without erasing corrupts data,
 * as on the real part). Optionally backed by a file so its content outlives the simulator.
 */
export class SimulatedFlash {
  readonly size: number;
  readonly jedecId: number;
  readonly #bytes: Uint8Array;
  #fd: number | undefined;

  private constructor(bytes: Uint8Array, fd?: number) {
    this.#bytes = bytes;
    this.size = bytes.length;
    this.#fd = fd;
    this.jedecId = (W25Q32_JEDEC_ID & 0xffff) | (Math.log2(bytes.length) << 16);
  }

  static inMemory(size = 4 * 1024 * 1024): SimulatedFlash {
    return new SimulatedFlash(new Uint8Array(size).fill(0xff));
  }

  /** Opens (or creates, erased) a flash image file of exactly `size` bytes. */
  static fileBacked(path: string, size = 4 * 1024 * 1024): SimulatedFlash {
    const created = !existsSync(path);
    const fd = openSync(path, created ? "w+" : "r+");
    const bytes = new Uint8Array(size).fill(0xff);
    if (created) {
      writeSync(fd, bytes, 0, size, 0);
    } else {
      const actual = fstatSync(fd).size;
      if (actual !== size) {
        closeSync(fd);
        throw new UsageError("bad-flash-file", `${path} is ${actual} bytes but the simulated flash is ${size}; delete it or pass --flash-size ${actual}`);
      }
      readSync(fd, bytes, 0, size, 0);
    }
    return new SimulatedFlash(bytes, fd);
  }

  read(address: number, length: number): Uint8Array {
    this.#checkRange(address, length);
    return this.#bytes.slice(address, address + length);
  }

  md5(address: number, length: number): Uint8Array {
    this.#checkRange(address, length);
    return createHash("md5").update(this.#bytes.subarray(address, address + length)).digest();
  }

  /** Programs bytes (AND with what is there) and returns the modelled time in ms. */
  program(address: number, data: Uint8Array): number {
    this.#checkRange(address, data.length);
    for (let i = 0; i < data.length; i++) this.#bytes[address + i]! &= data[i]!;
    this.#persist(address, data.length);
    return Math.ceil(data.length / PAGE) * FLASH_TIMING.pageProgramMs;
  }

  /** Erases whole sectors covering [address, address+length); uses 64 KB block erases where aligned. Returns ms. */
  erase(address: number, length: number): number {
    if (address % SECTOR !== 0) throw new RangeError(`erase address 0x${address.toString(16)} is not sector aligned`);
    const end = Math.min(this.size, address + Math.ceil(length / SECTOR) * SECTOR);
    this.#checkRange(address, end - address);
    let ms = 0;
    for (let at = address; at < end; ) {
      const step = at % BLOCK === 0 && end - at >= BLOCK ? BLOCK : SECTOR;
      ms += step === BLOCK ? FLASH_TIMING.blockEraseMs : FLASH_TIMING.sectorEraseMs;
      at += step;
    }
    this.#bytes.fill(0xff, address, end);
    this.#persist(address, end - address);
    return ms;
  }

  eraseAll(): number {
    this.#bytes.fill(0xff);
    this.#persist(0, this.size);
    return FLASH_TIMING.chipEraseMs;
  }

  close(): void {
    if (this.#fd === undefined) return;
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #persist(address: number, length: number): void {
    if (this.#fd !== undefined) writeSync(this.#fd, this.#bytes, address, length, address);
  }

  #checkRange(address: number, length: number): void {
    if (address < 0 || length < 0 || address + length > this.size) {
      throw new RangeError(`0x${address.toString(16)}+${length} is outside the ${this.size}-byte flash`);
    }
  }
}
