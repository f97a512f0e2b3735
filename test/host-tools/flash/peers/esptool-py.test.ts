import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ChipSimHarness } from "../../../support/chip-sim.ts";

/**
 * Espressif's esptool.py (v4.x) against the simulator, with its own stub and with --no-stub. It is not a dependency:
 * ESPTOOL_PY names an esptool.py (run by ESPTOOL_PYTHON, /usr/bin/python3 by default) or an esptool executable;
 * otherwise esptool.py or esptool on PATH; otherwise the tests are skipped.
 */
function findEsptool(): string[] | undefined {
  const candidates = process.env.ESPTOOL_PY ? [process.env.ESPTOOL_PY] : (process.env.PATH ?? "").split(delimiter).flatMap((dir) => [join(dir, "esptool.py"), join(dir, "esptool")]);
  for (const path of candidates.filter((candidate) => existsSync(candidate))) {
    const command = path.endsWith(".py") ? [process.env.ESPTOOL_PYTHON ?? "/usr/bin/python3", path] : [path];
    const probe = spawnSync(command[0]!, [...command.slice(1), "version"], { encoding: "utf8", timeout: 20_000 });
    if (probe.status === 0 && /esptool(\.py)? v4\./.test(probe.stdout)) return command;
  }
  return undefined;
}

const esptool = findEsptool();
if (!esptool) {
  console.warn(
    "\n  NOTICE: esptool.py v4 not found, so the esptool.py tests are skipped. Get it with `git clone -b v4.8.1 https://github.com/espressif/esptool`" +
      " and apt-get install python3-serial python3-bitstring python3-cryptography python3-ecdsa python3-intelhex python3-yaml, then set ESPTOOL_PY=/path/to/esptool/esptool.py.\n",
  );
}

const harness = new ChipSimHarness();
afterEach(() => harness.close());
const work = mkdtempSync(join(tmpdir(), "esplab-esptool-py-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs esptool against a simulator URL; the simulator lives in this process, so the child must not block it. */
function run(url: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  const [program, ...prefix] = esptool!;
  const full = [...prefix, "--port", url, "--before", "no_reset", "--after", "no_reset", ...args];
  return new Promise((resolve) => {
    execFile(program!, full, { timeout: 60_000 }, (error, stdout, stderr) => resolve({ ok: !error, output: stdout + stderr }));
  });
}

describe.skipIf(!esptool)("esptool.py drives the simulated ESP32", () => {
  it("reads chip, crystal, features, MAC and flash id, with its own stub", async () => {
    const chip = await harness.simulator();
    const info = await run(chip.url, ["flash_id"]);
    expect(info.ok, info.output).toBe(true);
    expect(info.output).toContain("Chip is ESP32-D0WD-V3 (revision v3.0)");
    expect(info.output).toContain("Features: WiFi, BT, Dual Core");
    expect(info.output).toContain("Crystal is 40MHz");
    expect(info.output).toContain("MAC: 24:0a:c4:5e:1a:b0");
    expect(info.output).toContain("Stub running...");
    expect(info.output).toMatch(/Manufacturer: ef\s+Device: 4016/);
    // Its --after no_reset leaves the stub with FLASH_END(reboot), a software reset back into the ROM loader.
    expect(chip.chip!.commandCounts.get("FLASH_END")).toBe(1);
    expect(chip.chip!.mode).toBe("rom");
    expect(chip.chip!.baud).toBe(115200);
  });

  it("writes with its stub at 921600 baud and reads back the same bytes", async () => {
    const chip = await harness.simulator();
    const data = new Uint8Array(randomBytes(200 * 1024));
    writeFileSync(join(work, "app.bin"), data);
    const written = await run(chip.url, ["--baud", "921600", "write_flash", "0x10000", join(work, "app.bin")]);
    expect(written.ok, written.output).toBe(true);
    expect(written.output).toContain("Hash of data verified.");
    expect(written.output).toContain("Changing baud rate to 921600\nChanged.");
    expect(chip.chip!.commandCounts.get("CHANGE_BAUDRATE")).toBe(1);
    expect(Buffer.from(chip.flash.read(0x10000, data.length)).equals(Buffer.from(data))).toBe(true);

    const read = await run(chip.url, ["read_flash", "0x10000", String(data.length), join(work, "back.bin")]);
    expect(read.ok, read.output).toBe(true);
    expect(readFileSync(join(work, "back.bin")).equals(Buffer.from(data))).toBe(true);
  });

  it("writes and reads through the ROM loader (--no-stub), its baud change taking effect", async () => {
    const chip = await harness.simulator();
    const data = new Uint8Array(randomBytes(6000));
    writeFileSync(join(work, "rom.bin"), data);
    // The ROM change goes through esptool's crystal estimate from RTCCALICFG1 and eFuse word 4.
    const written = await run(chip.url, ["--no-stub", "--baud", "460800", "write_flash", "0x20000", join(work, "rom.bin")]);
    expect(written.ok, written.output).toBe(true);
    expect(written.output).toContain("Hash of data verified.");
    expect(chip.chip!.baud).toBe(460800);
    expect(chip.chip!.mode).toBe("rom");
    expect(Buffer.from(chip.flash.read(0x20000, data.length)).equals(Buffer.from(data))).toBe(true);

    const read = await run(chip.url, ["--no-stub", "read_flash", "0x20000", "4096", join(work, "rom-back.bin")]);
    expect(read.ok, read.output).toBe(true);
    expect(readFileSync(join(work, "rom-back.bin")).equals(Buffer.from(data.subarray(0, 4096)))).toBe(true);
  });

  it("meets the ROM's refusals: no erase_flash without the stub", async () => {
    const chip = await harness.simulator();
    const erase = await run(chip.url, ["--no-stub", "erase_flash"]);
    expect(erase.ok).toBe(false);
    expect(erase.output).toContain("ESP32 ROM does not support function erase_flash");
  });
});

/** esptool.py's own descriptions of the simulated samples (its targets/esp32*.py tables, not esplab's). */
const LATER_CHIPS = [
  { chip: "esp32s2", says: "Chip is ESP32-S2 (revision v0.0)", mac: "7c:df:a1:00:2c:10", image: "esp_idf_blink_esp32s2.bin", at: 0x10000 },
  { chip: "esp32s3", says: "Chip is ESP32-S3 (QFN56) (revision v0.2)", mac: "f4:12:fa:40:3b:21", image: "helloworld-esp32s3.bin", at: 0x10000 },
  { chip: "esp32c3", says: "Chip is ESP32-C3 (QFN32) (revision v0.4)", mac: "34:85:18:7a:5c:04", image: "bootloader_esp32c3.bin", at: 0x0 },
  { chip: "esp32c6", says: "Chip is ESP32-C6 (QFN40) (revision v0.1)", mac: "40:4c:ca:51:0e:88", image: "helloworld-esp32c6.bin", at: 0x10000 },
] as const;

describe.skipIf(!esptool)("esptool.py drives the simulated later chips", () => {
  it.each(LATER_CHIPS)("$chip: detected, its stub run, an image for it written and read back", async ({ chip, says, mac, image, at }) => {
    const simulator = await harness.simulator({ chip });
    const file = join(import.meta.dirname, "../../../fixtures/esp32", image);
    const written = await run(simulator.url, ["--baud", "921600", "write_flash", "--flash_size", "keep", `0x${at.toString(16)}`, file]);
    expect(written.ok, written.output).toBe(true);
    expect(written.output).toContain(says);
    expect(written.output).toContain(mac);
    expect(written.output).toContain("Stub running...");
    expect(written.output).toContain("Hash of data verified.");
    const bytes = readFileSync(file);
    expect(Buffer.from(simulator.flash.read(at, bytes.length)).equals(bytes)).toBe(true);
    const read = await run(simulator.url, ["read_flash", `0x${at.toString(16)}`, String(bytes.length), join(work, `${chip}.bin`)]);
    expect(read.ok, read.output).toBe(true);
    expect(readFileSync(join(work, `${chip}.bin`)).equals(bytes)).toBe(true);
  });

  it("esp32c3 through its ROM loader alone (--no-stub): the later ROM's FLASH_BEGIN and a baud change", async () => {
    const simulator = await harness.simulator({ chip: "esp32c3" });
    const file = join(import.meta.dirname, "../../../fixtures/esp32/bootloader_esp32c3.bin");
    const written = await run(simulator.url, ["--no-stub", "--baud", "460800", "write_flash", "--flash_size", "keep", "0x0", file]);
    expect(written.ok, written.output).toBe(true);
    expect(written.output).toContain("Hash of data verified.");
    expect(simulator.chip!.mode).toBe("rom");
    expect(simulator.chip!.baud).toBe(460800);
    expect(Buffer.from(simulator.flash.read(0, readFileSync(file).length)).equals(readFileSync(file))).toBe(true);
  });
});
