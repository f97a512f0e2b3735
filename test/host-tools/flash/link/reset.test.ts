import { describe, expect, it } from "vitest";
import type { ByteLink, ControlLines } from "../../../../host-tools/flash/link/link.ts";
import { classicReset, defaultResets, hardReset, tightReset, usbJtagReset } from "../../../../host-tools/flash/link/reset.ts";

/** Records each line change and sleep as "DTR RTS" pairs (1 = asserted) and "+ms". */
function recordingLink(hasLines = true) {
  const trace: string[] = [];
  const link = {
    name: "fake",
    baud: 115200,
    hasControlLines: hasLines,
    async setLines(lines: ControlLines) {
      if (!hasLines) return false;
      trace.push(`${+lines.dtr}${+lines.rts}`);
      return true;
    },
  } as unknown as ByteLink;
  const sleep = async (ms: number) => void trace.push(`+${ms}`);
  return { link, trace, sleep };
}

describe("reset strategies (DTR→IO0, RTS→EN through the usual transistor pair)", () => {
  it("classic: EN low with IO0 high, 100 ms, IO0 low as EN rises, hold, release", async () => {
    const { link, trace, sleep } = recordingLink();
    expect(await classicReset(link, 50, sleep).run()).toBe(true);
    expect(trace).toEqual(["00", "01", "+100", "11", "10", "+50", "00"]);
  });

  it("unix tight: both lines per step, through (1,1) rather than a glitch", async () => {
    const { link, trace, sleep } = recordingLink();
    await tightReset(link, 550, sleep).run();
    expect(trace).toEqual(["00", "11", "01", "+100", "10", "+550", "00"]);
  });

  it("USB-Serial/JTAG and the hard reset after flashing", async () => {
    const jtag = recordingLink();
    await usbJtagReset(jtag.link, jtag.sleep).run();
    expect(jtag.trace).toEqual(["00", "+100", "10", "+100", "01", "+100", "00"]);
    const hard = recordingLink();
    expect(await hardReset(hard.link, hard.sleep)).toBe(true);
    expect(hard.trace).toEqual(["01", "+100", "00"]);
  });

  it("--before default-reset cycles esptool's order; a USB-JTAG port gets its own sequence only", () => {
    const { link, sleep } = recordingLink();
    expect(defaultResets(link, { sleep }).map((s) => s.name)).toEqual(["tight (50 ms)", "tight (550 ms)", "classic (50 ms)", "classic (550 ms)"]);
    expect(defaultResets(link, { usbJtag: true, sleep }).map((s) => s.name)).toEqual(["USB-Serial/JTAG"]);
  });

  it("reports a link without modem lines instead of failing", async () => {
    const { link, trace, sleep } = recordingLink(false);
    expect(await tightReset(link, 50, sleep).run()).toBe(false);
    expect(await hardReset(link, sleep)).toBe(false);
    expect(trace).toEqual([]);
  });
});
