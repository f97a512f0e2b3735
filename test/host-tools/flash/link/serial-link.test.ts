import { afterEach, describe, expect, it } from "vitest";
import { LinkError } from "../../../../host-tools/flash/link/link.ts";
import { openLink } from "../../../../host-tools/flash/link/open-link.ts";
import { SerialLink } from "../../../../host-tools/flash/link/serial-link.ts";
import { hasSocat, ptyPair } from "../../../support/pty-pair.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.skipIf(!hasSocat)("SerialLink over a pseudo-terminal pair (socat)", () => {
  it("carries bytes both ways, changes baud, and reports that a pty has no DTR/RTS", async () => {
    const pair = await ptyPair();
    cleanups.push(pair.close);
    const a = await SerialLink.open(pair.a, 115200);
    const b = await SerialLink.open(pair.b, 115200);
    cleanups.push(() => a.close(), () => b.close());
    const received: number[] = [];
    b.onData((bytes) => received.push(...bytes));
    await a.write(Uint8Array.from([0xc0, 0x00, 0xdb, 0xff]));
    for (let i = 0; i < 50 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    expect(received).toEqual([0xc0, 0x00, 0xdb, 0xff]);
    await a.setBaud(921600);
    expect(a.baud).toBe(921600);
    expect(a.hasControlLines).toBe(true);
    expect(await a.setLines({ dtr: true, rts: false })).toBe(false);
    expect(a.hasControlLines).toBe(false);
  });

  it("says the port is busy when another program holds it, and that it is missing when it is", async () => {
    const pair = await ptyPair();
    cleanups.push(pair.close);
    const first = await SerialLink.open(pair.a, 115200);
    cleanups.push(() => first.close());
    const busy = await SerialLink.open(pair.a, 115200).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(LinkError);
    expect((busy as LinkError).code).toBe("port-busy");
    expect((busy as Error).message).toMatch(/in use by another program/);
    const missing = await openLink("/dev/ttyUSB-esplab-missing", 115200).catch((e: unknown) => e);
    expect((missing as LinkError).code).toBe("no-such-port");
    expect((missing as Error).message).toMatch(/esplab ports/);
  });

  it("reports a port that disappears while open", async () => {
    const pair = await ptyPair();
    const link = await SerialLink.open(pair.a, 115200);
    cleanups.push(() => link.close());
    const closed = new Promise<Error | undefined>((resolve) => link.onClose(resolve));
    // Unplugging happens while the port is being read; give serialport's poller a moment to start.
    await new Promise((resolve) => setTimeout(resolve, 300));
    pair.close();
    const error = await closed;
    expect(error?.message).toMatch(/went away/);
  });
});

describe("openLink", () => {
  it("asks for a port when none is given and refuses URLs it cannot open", async () => {
    await expect(openLink(undefined, 115200)).rejects.toThrow(/no port given: pass --port/);
    await expect(openLink("rfc2217://host:4000", 115200)).rejects.toThrow(/only socket:\/\/HOST:PORT/);
  });
});

describe("open errors say what to do", () => {
  it("names the dialout group for a permission error and the other program for a busy port", async () => {
    const { explainOpenError } = await import("../../../../host-tools/flash/link/serial-link.ts");
    const denied = explainOpenError("/dev/ttyUSB0", new Error("Error: Permission denied, cannot open /dev/ttyUSB0"));
    expect(denied.code).toBe("permission-denied");
    expect(denied.message).toMatch(/sudo usermod -aG dialout \$USER/);
    expect(explainOpenError("/dev/ttyUSB0", new Error("Error Resource temporarily unavailable Cannot lock port")).code).toBe("port-busy");
    expect(explainOpenError("/dev/ttyUSB0", new Error("something odd")).message).toBe("cannot open /dev/ttyUSB0: something odd");
  });
});
