import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { SerialLink } from "../../../../host-tools/flash/link/serial-link.ts";
import { CTRL_R, CTRL_RIGHT_BRACKET, runMonitor } from "../../../../host-tools/flash/monitor/monitor.ts";
import { Symbolizer } from "../../../../host-tools/flash/monitor/elf/symbolizer.ts";
import { hasSocat, ptyPair } from "../../../support/pty-pair.ts";
import { syntheticXtensaElf } from "../../../support/synthetic-elf.ts";
import { until } from "../../../support/until.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(extra: Partial<Parameters<typeof runMonitor>[0]> = {}) {
  const pair = await ptyPair();
  cleanups.push(pair.close);
  const console = await SerialLink.open(pair.a, 115200);
  const board = await SerialLink.open(pair.b, 115200);
  cleanups.push(() => console.close(), () => board.close());
  const input = new PassThrough();
  const output = new PassThrough();
  let text = "";
  output.on("data", (chunk: Buffer) => (text += chunk.toString().replace(/\x1b\[[0-9;]*m/g, "")));
  const fromBoard: number[] = [];
  board.onData((bytes) => fromBoard.push(...bytes));
  const times = [new Date("2026-11-22T10:00:01.250Z")];
  const done = runMonitor({ link: console, input, output, timestamps: true, now: () => times[0]!, partialLineMs: 30, ...extra });
  return { board, input, done, text: () => text, fromBoard, pair };
}

describe.skipIf(!hasSocat)("esplab monitor over a pseudo-terminal", () => {
  it("prints boot lines with notes and timestamps, renders xsbug logs, sends keys, and quits on Ctrl-]", async () => {
    const m = await setUp();
    await m.board.write(new TextEncoder().encode("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n\r\n<?xs.87654321?>\r\n<xsbug><log>reading 42\n</log></xsbug>\r\nPIN: "));
    await until(() => m.text().includes("PIN: "));
    expect(m.text()).toContain("10:00:01.250 rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\n");
    expect(m.text()).toContain("esplab: power-on reset; booting the app from flash");
    expect(m.text()).toContain("10:00:01.250 reading 42\n");
    expect(m.text()).not.toContain("<xsbug>");

    m.input.write("12#");
    await until(() => m.fromBoard.length >= 3);
    expect(String.fromCharCode(...m.fromBoard)).toBe("12#");

    m.input.write(Buffer.from([CTRL_R]));
    await until(() => m.text().includes("no reset lines"));
    expect(m.text()).toMatch(/has no reset lines: press the board's EN button/);

    m.input.write(Buffer.from([CTRL_RIGHT_BRACKET]));
    expect(await m.done).toBe(0);
  });

  it("with an ELF, prints each backtrace frame's function and file:line under the panic's Backtrace line", async () => {
    const symbolizer = new Symbolizer(syntheticXtensaElf({
      functions: [{ name: "app_main", address: 0x400d1220, size: 0x30 }],
      dir: "/project/main", file: "main.c", rows: [{ address: 0x400d1220, line: 10 }, { address: 0x400d1230, line: 12 }], end: 0x400d1250,
    }));
    const m = await setUp({ symbolize: (address) => symbolizer.lookup(address) });
    await m.board.write(new TextEncoder().encode("Guru Meditation Error: Core  1 panic'ed (LoadProhibited).\r\n\r\nBacktrace: 0x400d1234:0x3ffb1230 0x40081234:0x3ffb1250 |<-CORRUPTED\r\nnext\r\n"));
    await until(() => m.text().includes("next"));
    expect(m.text()).toContain("Backtrace: 0x400d1234:0x3ffb1230 0x40081234:0x3ffb1250 |<-CORRUPTED\n10:00:01.250   0x400d1234: app_main at /project/main/main.c:12\n10:00:01.250   0x40081234: ?? (not in the ELF");
    expect(m.text()).toContain("(the stack was corrupted beyond this frame)");
    m.input.write(Buffer.from([CTRL_RIGHT_BRACKET]));
    expect(await m.done).toBe(0);
  });

  it("ends with code 1 and says so when the port goes away", async () => {
    const m = await setUp();
    await m.board.write(new TextEncoder().encode("hello\r\n"));
    await until(() => m.text().includes("hello"));
    m.pair.close();
    expect(await m.done).toBe(1);
    expect(m.text()).toMatch(/closed: .*went away/);
  });
});
