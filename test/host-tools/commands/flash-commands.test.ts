import { execFile, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseAppImage } from "../../../host-tools/flash/image/app-image.ts";
import { startChipSimulator, type ChipSimulator } from "../../../host-tools/flash/sim/server.ts";
import { SimulatedFlash } from "../../../host-tools/flash/sim/spi-flash.ts";
import { esp32Fixture } from "../../support/chip-sim.ts";
import { hasSocat } from "../../support/pty-pair.ts";
import { syntheticXtensaElf } from "../../support/synthetic-elf.ts";

const root = path.resolve(import.meta.dirname, "../../..");
const fixtures = path.join(root, "test/fixtures/esp32");

/** Runs the CLI as a user would, asynchronously (the simulator lives in this process). */
function esplab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, "bin/esplab.js"), ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let simulator: ChipSimulator;
let scratch: string;
beforeEach(async () => {
  simulator = await startChipSimulator();
  scratch = mkdtempSync(path.join(tmpdir(), "esplab-flash-"));
});
afterEach(async () => {
  await simulator.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe("esplab chip commands against chip-sim", () => {
  it("chip-info prints chip, features, MAC and flash size, also as JSON", async () => {
    const text = await esplab("chip-info", "--port", simulator.url);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Chip:\s+ESP32-D0WD-V3 \(revision v3.0\)/);
    expect(text.stdout).toMatch(/Flash:\s+4MB/);
    const json = JSON.parse((await esplab("chip-info", "--port", simulator.url, "--json")).stdout);
    expect(json).toMatchObject({ chip: "esp32", mac: "24:0a:c4:5e:1a:b0", flashSize: 4 * 1024 * 1024, flashId: "0x1640ef" });
  });

  it("chip-info names a later chip; efuse-summary says it decodes the ESP32's layout only", async () => {
    const c3 = await startChipSimulator({ chip: "esp32c3" });
    try {
      const json = JSON.parse((await esplab("chip-info", "--port", c3.url, "--json")).stdout);
      expect(json).toMatchObject({ chip: "esp32c3", description: "ESP32-C3 (QFN32) (revision v0.4)", revision: "v0.4", mac: "34:85:18:7a:5c:04", flashSize: 4 * 1024 * 1024 });
      const efuses = await esplab("efuse-summary", "--port", c3.url);
      expect(efuses.code).toBe(1);
      expect(efuses.stderr).toContain("this board is an ESP32-C3, whose eFuses are laid out differently. Use Espressif's espefuse");
      expect(efuses.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await c3.close();
    }
  });

  it("efuse-summary reads the simulated chip's eFuses and decodes them as espefuse does, writing nothing", async () => {
    const before = Buffer.from(simulator.flash.read(0, simulator.flash.size));
    const text = await esplab("efuse-summary", "--port", simulator.url);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^MAC \(BLOCK0\): +MAC address = 24:0a:c4:5e:1a:b0 \(CRC 0x[0-9a-f]{2} OK\) R\/W$/m);
    expect(text.stdout).toMatch(/^WAFER_VERSION_MAJOR \(BLOCK0\): .* = 3 R\/W \(0b011\)$/m);
    expect(text.stdout).toMatch(/^CHIP_PACKAGE \(BLOCK0\): .* = 1 R\/W \(0b001\)$/m);
    expect(text.stdout).toMatch(/^CODING_SCHEME \(BLOCK0\): .* = NONE \(BLK1-3 len=256 bits\) R\/W \(0b00\)$/m);
    expect(text.stdout).toMatch(/^FLASH_CRYPT_CNT \(BLOCK0\): .* = 0 R\/W \(0b0000000\)$/m);
    expect(text.stdout).toContain("Flash encryption: off (FLASH_CRYPT_CNT has 0 bit(s) set; odd means on)");
    const json = JSON.parse((await esplab("efuse-summary", "--port", simulator.url, "--json")).stdout);
    expect(json.fields.find((f: { name: string }) => f.name === "CLK8M_FREQ").value).toBe("100");
    expect(json.words.blocks.map((b: number[]) => b.length)).toEqual([7, 8, 8, 8]);
    expect(Buffer.from(simulator.flash.read(0, simulator.flash.size)).equals(before)).toBe(true);
  });

  it("flash writes and verifies, read-flash reads back the same bytes, and a second flash skips everything", async () => {
    const args = ["0x1000", path.join(fixtures, "bootloader_esp32.bin"), "0x8000", path.join(fixtures, "partitions_singleapp.bin"), "0x10000", path.join(fixtures, "esp32-app-template.bin")];
    const first = await esplab("flash", ...args, "--port", simulator.url);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/esp32-app-template.bin @ 0x10000: 587.7 KB .* MD5 verified/);

    const out = path.join(scratch, "app.bin");
    const app = esp32Fixture("esp32-app-template.bin");
    expect((await esplab("read-flash", "0x10000", String(app.length), out, "--port", simulator.url)).code).toBe(0);
    expect(readFileSync(out).equals(app)).toBe(true);

    const again = JSON.parse((await esplab("flash", ...args, "--port", simulator.url, "--json")).stdout);
    expect(again.regions.map((r: { skipped: boolean }) => r.skipped)).toEqual([true, true, true]);
  });

  it("flash with no files takes a Moddable build's three images and puts each at its offset", async () => {
    for (const [from, to] of [["bootloader_esp32.bin", "bootloader.bin"], ["partitions_singleapp.bin", "partition-table.bin"], ["esp32-app-template.bin", "xs_esp32.bin"]]) {
      copyFileSync(path.join(fixtures, from!), path.join(scratch, to!));
    }
    const result = await esplab("flash", "--build", scratch, "--port", simulator.url, "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).regions.map((r: { address: string; name: string }) => `${r.name}@${r.address}`)).toEqual(["bootloader.bin@0x01000", "partition-table.bin@0x08000", "xs_esp32.bin@0x10000"]);
    expect(Buffer.from(simulator.flash.read(0x8000, 96)).equals(esp32Fixture("partitions_singleapp.bin"))).toBe(true);
  });

  it("--flash-size detect writes the size the chip's flash id names into the bootloader header; keep leaves it", async () => {
    const bootloader = path.join(fixtures, "bootloader_esp32.bin");
    expect(esp32Fixture("bootloader_esp32.bin")[3]! >> 4).toBe(1); // built for 2MB
    const kept = await esplab("flash", "0x1000", bootloader, "--port", simulator.url);
    expect(kept.code).toBe(0);
    expect(simulator.flash.read(0x1000, 4)[3]! >> 4).toBe(1);

    const big = await startChipSimulator({ flash: SimulatedFlash.inMemory(8 * 1024 * 1024) });
    try {
      const detected = await esplab("flash", "0x1000", bootloader, "--flash-size", "detect", "--port", big.url);
      expect(detected.code).toBe(0);
      expect(detected.stderr).toMatch(/Auto-detected flash size: 8MB\nFlash parameters set to 0x[0-9a-f]{2}3[0-9a-f]/);
      const header = big.flash.read(0x1000, esp32Fixture("bootloader_esp32.bin").length);
      expect(header[3]! >> 4).toBe(3);
      expect(parseAppImage(header).checksum.valid).toBe(true);
    } finally {
      await big.close();
    }
  });

  it("--flash-size smaller than the chip's flash is the limit the images must fit; larger is a warning", async () => {
    const table = path.join(fixtures, "partitions_singleapp.bin");
    const refused = await esplab("flash", "0x100000", table, "--flash-size", "1MB", "--port", simulator.url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ends at 0x100060, past the 0x100000-byte flash/);
    expect(simulator.flash.read(0x100000, 16).every((b) => b === 0xff)).toBe(true);
    const larger = await esplab("flash", "0x1000", path.join(fixtures, "bootloader_esp32.bin"), "--flash-size", "16MB", "--port", simulator.url);
    expect(larger.code).toBe(0);
    expect(larger.stderr).toMatch(/Warning: --flash-size 16MB is larger than the 4MB flash the chip reports/);
    const bad = await esplab("flash", "0x1000", table, "--flash-size", "3MB", "--port", simulator.url);
    expect(bad.stderr).toMatch(/--flash-size 3MB: use one of keep, detect, 1MB/);
  });

  it("merge-bin makes one image that, flashed at 0x0, leaves the chip as the three files would", async () => {
    const merged = path.join(scratch, "merged.bin");
    const files = ["0x1000", path.join(fixtures, "bootloader_esp32.bin"), "0x8000", path.join(fixtures, "partitions_singleapp.bin"), "0x10000", path.join(fixtures, "esp32-app-template.bin")];
    const made = await esplab("merge-bin", "-o", merged, "--flash-size", "4MB", ...files);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(/Flash parameters set to 0x0220/);
    expect(made.stderr).toMatch(/Wrote 0x[0-9a-f]+ bytes to .*merged.bin, ready to flash at 0x0/);
    expect((await esplab("flash", "0x0", merged, "--port", simulator.url)).code).toBe(0);
    const app = esp32Fixture("esp32-app-template.bin");
    expect(Buffer.from(simulator.flash.read(0x10000, app.length)).equals(app)).toBe(true);
    expect(simulator.flash.read(0x1000, 4)[3]! >> 4).toBe(2);
    expect((await esplab("partition-table", "--port", simulator.url)).stdout).toContain("factory,app,factory,0x10000,1M,");

    const hex = await esplab("merge-bin", "-o", path.join(scratch, "m.hex"), "--format", "hex", ...files);
    expect(hex.code).toBe(0);
    expect(readFileSync(path.join(scratch, "m.hex"), "utf8")).toMatch(/^:020000040000FA\n[\s\S]*:00000001FF\n$/);
    const overlap = await esplab("merge-bin", "-o", path.join(scratch, "x.bin"), "0x8000", path.join(fixtures, "partitions_singleapp.bin"), "0x8800", path.join(fixtures, "partitions_singleapp.bin"));
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toMatch(/shares the 4 KB erase sector 0x8000..0x9000/);
    expect(existsSync(path.join(scratch, "x.bin"))).toBe(false);

    const padded = path.join(scratch, "padded.bin");
    expect((await esplab("merge-bin", "-o", padded, "--fill-flash-size", "1MB", "0x8000", path.join(fixtures, "partitions_singleapp.bin"))).code).toBe(0);
    expect(readFileSync(padded).length).toBe(1024 * 1024);
    expect(readFileSync(padded).subarray(0x8060).every((b) => b === 0xff)).toBe(true);
    const uf2 = await esplab("merge-bin", "-o", padded, "--format", "uf2", "0x8000", path.join(fixtures, "partitions_singleapp.bin"));
    expect(uf2.stderr).toMatch(/--format uf2: use raw or hex/);
  });

  it("refuses an ESP32-S2 app before writing, and says why", async () => {
    const result = await esplab("flash", "0x10000", path.join(fixtures, "esp_idf_blink_esp32s2.bin"), "--port", simulator.url);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/this image is for ESP32-S2 but the board is an ESP32 — build for -p esp32/);
    expect(simulator.flash.read(0x10000, 16).every((b) => b === 0xff)).toBe(true);
  });

  it("erase-region checks alignment before connecting, then erases exactly the region", async () => {
    const unaligned = await esplab("erase-region", "0x8100", "0x1000", "--port", simulator.url);
    expect(unaligned.code).toBe(1);
    expect(unaligned.stderr).toMatch(/4 KB-aligned/);
    expect(simulator.connections).toBe(0);

    await esplab("flash", "0x8000", path.join(fixtures, "partitions_singleapp.bin"), "0x9000", path.join(fixtures, "partitions_singleapp.bin"), "--port", simulator.url);
    expect((await esplab("erase-region", "0x8000", "4k", "--port", simulator.url)).code).toBe(0);
    expect(simulator.flash.read(0x8000, 96).every((b) => b === 0xff)).toBe(true);
    expect(Buffer.from(simulator.flash.read(0x9000, 96)).equals(esp32Fixture("partitions_singleapp.bin"))).toBe(true);
  });

  it("--partition NAME flashes and erases a partition of the table on the board, and refuses a file larger than it", async () => {
    const table = path.join(fixtures, "partitions_singleapp.bin");
    const noTable = await esplab("flash", "--partition", "wifidata", table, "--port", simulator.url);
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toMatch(/--partition wifidata: cannot read the board's partition table at 0x08000: .*erased.*Flash the table first/);

    expect((await esplab("flash", "0x8000", table, "--port", simulator.url)).code).toBe(0);
    const data = path.join(scratch, "wifi.bin");
    writeFileSync(data, Buffer.alloc(0x3000, 0x5a));
    const flashed = await esplab("flash", "--partition", "wifidata", data, "--port", simulator.url);
    expect(flashed.code).toBe(0);
    expect(flashed.stderr).toMatch(/wifi.bin goes to partition "wifidata" \(0x40000 bytes at 0x150000\)/);
    expect(simulator.flash.read(0x150000, 0x3000).every((b) => b === 0x5a)).toBe(true);

    const big = path.join(scratch, "big.bin");
    writeFileSync(big, Buffer.alloc(0x40001, 0x11));
    const refused = await esplab("flash", "--partition", "rfdata", big, "--port", simulator.url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/big.bin is 262145 bytes, larger than partition "rfdata" \(0x40000 bytes at 0x110000\); nothing was written/);
    expect(simulator.flash.read(0x110000, 16).every((b) => b === 0xff)).toBe(true);

    const unknown = await esplab("erase-region", "--partition", "nvs", "--port", simulator.url);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no partition "nvs"; it has factory \(app\/factory at 0x10000\), rfdata \(data\/phy at 0x110000\), wifidata \(data\/nvs at 0x150000\)/);
    const erased = await esplab("erase-region", "--partition", "wifidata", "--port", simulator.url);
    expect(erased.code).toBe(0);
    expect(erased.stderr).toMatch(/Erased 0x40000 bytes at 0x150000/);
    expect(simulator.flash.read(0x150000, 0x40000).every((b) => b === 0xff)).toBe(true);
    expect(Buffer.from(simulator.flash.read(0x8000, 96)).equals(esp32Fixture("partitions_singleapp.bin"))).toBe(true);

    const twoFiles = await esplab("flash", "--partition", "wifidata", data, data, "--port", simulator.url);
    expect(twoFiles.stderr).toMatch(/--partition wifidata takes one FILE/);
   }, 90_000); // nine CLI runs, each a fresh Node process and connection

  it("erase-region --partition refuses a partition whose size is not whole sectors, naming it, before erasing", async () => {
    const entry = Buffer.alloc(32);
    entry.set([0xaa, 0x50, 0x01, 0x02]);
    entry.writeUInt32LE(0x9000, 4);
    entry.writeUInt32LE(0x1800, 8);
    entry.write("odd", 12, "latin1");
    const table = path.join(scratch, "odd-table.bin");
    writeFileSync(table, Buffer.concat([entry, Buffer.alloc(32, 0xff)]));
    expect((await esplab("flash", "0x8000", table, "0x9000", table, "--port", simulator.url)).code).toBe(0);
    const result = await esplab("erase-region", "--partition", "odd", "--port", simulator.url);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/4 KB-aligned address and size .*got 0x09000 and 0x01800 \(partition "odd" \(0x01800 bytes at 0x09000\)\)/);
    expect(simulator.flash.read(0x9000, 4)).toEqual(Uint8Array.from([0xaa, 0x50, 0x01, 0x02]));
  });

  it("erase-flash erases everything (with the stub), and says the ROM loader cannot", async () => {
    await esplab("flash", "0x8000", path.join(fixtures, "partitions_singleapp.bin"), "--port", simulator.url);
    const rom = await esplab("erase-flash", "--no-stub", "--port", simulator.url);
    expect(rom.code).toBe(1);
    expect(rom.stderr).toMatch(/erase-flash needs the flasher stub; run it without --no-stub/);
    expect((await esplab("erase-flash", "--port", simulator.url)).code).toBe(0);
    expect(simulator.flash.read(0, simulator.flash.size).every((b) => b === 0xff)).toBe(true);
  });

  it("partition-table --port reads the table from the chip", async () => {
    await esplab("flash", "0x8000", path.join(fixtures, "partitions_singleapp.bin"), "--port", simulator.url);
    const result = await esplab("partition-table", "--port", simulator.url);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("factory,app,factory,0x10000,1M,\nrfdata,data,phy,0x110000,256K,\nwifidata,data,nvs,0x150000,256K,");
  });

  it("without a port or a build it says what to pass", async () => {
    const noPort = await esplab("chip-info");
    expect(noPort.stderr).toMatch(/no port given: pass --port/);
    const noBuild = await esplab("flash", "--build", scratch, "--port", simulator.url);
    expect(noBuild.stderr).toMatch(/no Moddable ESP32 build/);
  });
});

describe("a board that does not enter download mode", () => {
  let board: Server;
  afterEach(() => new Promise<void>((resolve) => board.close(() => resolve())));

  it("explains BOOT/EN using the boot log the board printed", async () => {
    board = createServer((socket) => {
      socket.on("error", () => {});
      socket.write("ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
      socket.on("data", () => socket.write("I (31) boot: ESP-IDF v4.4 2nd stage bootloader\r\n"));
    });
    await new Promise<void>((resolve) => board.listen(0, "127.0.0.1", resolve));
    const port = (board.address() as { port: number }).port;
    const result = await esplab("chip-info", "--port", `socket://127.0.0.1:${port}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/booted its app instead of the download mode/);
    expect(result.stderr).toMatch(/Hold the BOOT \(IO0\) button, press and release EN/);
    expect(result.stderr).toMatch(/no DTR\/RTS lines/);
  });
});

describe("esplab monitor --elf", () => {
  let board: Server;
  afterEach(() => new Promise<void>((resolve) => board.close(() => resolve())));

  it("decodes a panic's backtrace from the board into function and file:line, and refuses a file that is not an ELF", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "esplab-elf-"));
    try {
      const elf = path.join(dir, "app.elf");
      writeFileSync(elf, syntheticXtensaElf({ functions: [{ name: "app_main", address: 0x400d1220, size: 0x30 }], dir: "/project/main", file: "main.c", rows: [{ address: 0x400d1220, line: 10 }, { address: 0x400d1230, line: 12 }], end: 0x400d1250 }));
      board = createServer((socket) => {
        socket.on("error", () => {});
        socket.end("abort() was called at PC 0x400d1237 on core 0\r\n\r\nBacktrace: 0x400d1234:0x3ffb1230 0x400d1221:0x3ffb1250\r\n");
      });
      await new Promise<void>((resolve) => board.listen(0, "127.0.0.1", resolve));
      const port = `socket://127.0.0.1:${(board.address() as { port: number }).port}`;
      const result = await esplab("monitor", "--port", port, "--elf", elf);
      expect(result.code).toBe(1); // the board went away after printing
      const text = result.stdout.replace(/\x1b\[[0-9;]*m/g, "");
      expect(text).toContain("  0x400d1234: app_main at /project/main/main.c:12\n  0x400d1221: app_main at /project/main/main.c:10\n");

      const notElf = await esplab("monitor", "--port", port, "--elf", path.join(fixtures, "esp32-app-template.bin"));
      expect(notElf.code).toBe(1);
      expect(notElf.stderr).toMatch(/not an ELF file: .*pass the .elf from the build/);
      expect(notElf.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("esplab chip-sim --chip", () => {
  it("serves the chip asked for, and says which", async () => {
    const sim = spawn(process.execPath, [path.join(root, "bin/esplab.js"), "chip-sim", "--chip", "esp32s3", "--tcp", "0"], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = "";
        sim.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("Press Ctrl-C")) resolve(out);
        });
        sim.once("exit", (code) => reject(new Error(`chip-sim exited with ${code}: ${out}`)));
      });
      expect(banner).toMatch(/^Simulated ESP32-S3 \(ESP32-S3 \(QFN56\) \(revision v0.2\), 4 MB flash\) on socket:\/\/127\.0\.0\.1:\d+/);
      const url = /socket:\/\/127\.0\.0\.1:\d+/.exec(banner)![0];
      const info = JSON.parse((await esplab("chip-info", "--port", url, "--json")).stdout);
      expect(info).toMatchObject({ chip: "esp32s3", revision: "v0.2", mac: "f4:12:fa:40:3b:21" });
      const wrong = await esplab("chip-sim", "--chip", "esp32p4");
      expect(wrong.stderr).toContain("--chip esp32p4: use one of esp32, esp32s2, esp32s3, esp32c3, esp32c6");
    } finally {
      sim.kill("SIGTERM");
      await new Promise((resolve) => sim.once("exit", resolve));
    }
  });
});

describe.skipIf(!hasSocat)("esplab chip-sim on a pseudo-terminal", () => {
  it("is flashed through a serial port path like a board with no reset lines", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "esplab-pty-"));
    const ptyPath = path.join(dir, "ttyESP");
    const sim = spawn(process.execPath, [path.join(root, "bin/esplab.js"), "chip-sim", "--tcp", "0", "--pty", ptyPath], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        sim.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("Press Ctrl-C")) resolve();
        });
        sim.once("exit", (code) => reject(new Error(`chip-sim exited with ${code}: ${out}`)));
      });
      for (let i = 0; i < 50 && !existsSync(ptyPath); i++) await new Promise((r) => setTimeout(r, 50));
      const result = await esplab("flash", "0x8000", path.join(fixtures, "partitions_singleapp.bin"), "--port", ptyPath, "--baud", "460800");
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/no DTR\/RTS lines \(a pseudo-terminal\?\)/);
      expect(result.stderr).toMatch(/partitions_singleapp.bin @ 0x08000: .* MD5 verified/);
      expect(result.stderr).toMatch(/No reset lines: asking the loader to start the app/);
      const again = await esplab("partition-table", "--port", ptyPath);
      expect(again.stdout).toContain("factory,app,factory,0x10000,1M,");
    } finally {
      sim.kill("SIGTERM");
      await new Promise((resolve) => sim.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
