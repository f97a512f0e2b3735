import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConsoleDecoder, decodeUtf8, explainBootLine } from "../../../../host-tools/flash/monitor/console-decoder.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("ConsoleDecoder", () => {
  it("renders Moddable's xsbug log messages as plain lines and exceptions with their place", () => {
    const decoder = new ConsoleDecoder();
    const stream =
      "\r\n<?xs.00000000?>\r\n" +
      '\r\n<?xs.3ffb1234?>\r\n<xsbug><login name="main" value="XS"/></xsbug>\r\n' +
      "\r\n<?xs.87654321?>\r\n<xsbug><log>distance 42 cm &lt;ok&gt;\n</log></xsbug>\r\n" +
      '\r\n<?xs.3ffb1234?>\r\n<xsbug><break path="/app/main.js" line="17"># Exception: read: no &quot;x&quot;!</break></xsbug>\r\n' +
      "plain trace from a release build\r\n";
    const lines = decoder.push(bytes(stream));
    expect(lines).toEqual([
      { kind: "note", text: "XS: the device restarted its JavaScript machine" },
      { kind: "note", text: 'XS: machine "main" is running (a debug build waits for xsbug)' },
      { kind: "log", text: "distance 42 cm <ok>" },
      { kind: "exception", text: '# Exception: read: no "x"!', path: "/app/main.js", line: 17 },
      { kind: "text", text: "plain trace from a release build" },
    ]);
  });

  it("gives the same lines however the bytes are chunked", () => {
    const stream = bytes("a\r\n\r\n<?xs.87654321?>\r\n<xsbug><log>one\ntwo\n</log></xsbug>\r\nb\r\n\r\nc\n");
    const whole = new ConsoleDecoder().push(stream);
    expect(whole.map((l) => l.text)).toEqual(["a", "one", "two", "b", "", "c"]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new ConsoleDecoder();
      expect([...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))]).toEqual(whole);
    }
  });

  it("explains ESP32 boot lines: download mode, normal boot, brown-out, watchdog", () => {
    const decoder = new ConsoleDecoder();
    const notes = decoder
      .push(bytes("rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\nrst:0xf (RTCWDT_BROWN_OUT_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\n"))
      .filter((line) => line.kind === "note")
      .map((line) => line.text);
    expect(notes[0]).toMatch(/power-on reset; in download mode, waiting for a flasher: release BOOT and press EN/);
    expect(notes[1]).toMatch(/brown-out.*; booting the app from flash/);
    expect(explainBootLine("rst:0x8 (TG1WDT_SYS_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)")).toMatch(/watchdog/);
    expect(explainBootLine("hello")).toBeUndefined();
  });

  it("explains the later chips' boot lines, whose reset names end in _RST or nothing", () => {
    expect(explainBootLine("rst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)")).toBe("esplab: power-on reset; booting the app from flash");
    expect(explainBootLine("rst:0x10 (RTCWDT_RTC_RST),boot:0x0 (DOWNLOAD(USB/UART0))")).toBe("esplab: RTC watchdog reset (often right after flashing); in download mode, waiting for a flasher: release BOOT and press EN to run the app");
    expect(explainBootLine("rst:0xc (RTC_SW_CPU_RST),boot:0x8 (SPI_FAST_FLASH_BOOT)")).toMatch(/software restart/);
    expect(explainBootLine("rst:0x15 (USB_UART_CHIP_RESET),boot:0x8 (SPI_FAST_FLASH_BOOT)")).toMatch(/through the chip's USB port/);
    expect(explainBootLine("rst:0xf (BROWN_OUT_RST),boot:0x8 (SPI_FAST_FLASH_BOOT)")).toMatch(/brown-out/);
    expect(explainBootLine("rst:0x99 (SOMETHING_NEW),boot:0x8 (SPI_FAST_FLASH_BOOT)")).toMatch(/reset reason SOMETHING_NEW/);
  });

  it("shows invalid UTF-8 bytes as \\xNN and keeps valid characters", () => {
    expect(decodeUtf8([0x41, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0x41, 0x07])).toBe("A\\xffé\\xe2\\x82A\\x07");
    expect(decodeUtf8([0xf0, 0x9f, 0x98, 0x80])).toBe("😀");
    expect(decodeUtf8([0xed, 0xa0, 0x80])).toBe("\\xed\\xa0\\x80");
  });

  it("holds back a prompt without newline until flushed, but never half an xsbug message", () => {
    const decoder = new ConsoleDecoder();
    expect(decoder.push(bytes("password: "))).toEqual([]);
    expect(decoder.flush()).toEqual([{ kind: "text", text: "password: " }]);
    decoder.push(bytes("\r\n<?xs.87654321?>\r\n<xsbug><log>par"));
    expect(decoder.flush()).toEqual([]);
  });

  it("never throws and never holds more than its limit, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(bytes("\r\n<?xs.87654321?>\r\n<xsbug><log>"), bytes("</log></xsbug>\r\n"), bytes("<break>"))), { maxLength: 30 }), (chunks) => {
        const decoder = new ConsoleDecoder(256);
        for (const chunk of chunks) for (const line of decoder.push(chunk)) expect(line.text.length).toBeLessThanOrEqual(256 * 4 * 4);
        decoder.flush();
      }),
    );
  });
});
