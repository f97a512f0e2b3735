import fs from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFirmwareBundle } from "../../../host-tools/build/firmware-bundle.ts";
import { VirtualBoard } from "../../../host-tools/board/index.ts";
import { MemoryStorage } from "../../../host-tools/platform/file-storage.ts";
import { NodeTransport } from "../../../host-tools/platform/node-transport.ts";
import { SystemClock } from "../../../host-tools/platform/system-clock.ts";
import { XsHost } from "../../../host-tools/xs/xs-host.ts";

let bundle: string;
beforeAll(async () => {
  bundle = fs.readFileSync(await buildFirmwareBundle("xs"), "utf8");
}, 60_000);

function makeHost() {
  const clock = new SystemClock();
  const board = new VirtualBoard({ clock });
  const storage = new MemoryStorage();
  const lines: string[] = [];
  const host = new XsHost({ io: board.io, clock, transport: new NodeTransport(), storage, log: (line) => lines.push(line) });
  return { host, board, storage, lines };
}

/** Runs code in XS and returns the lines it logged through the Log seam (synchronous, unlike stdout). */
async function run(host: XsHost, lines: string[], code: string): Promise<string[]> {
  const before = lines.length;
  await host.evaluate(`const log = __esplab.platform.log; ${code}`);
  await host.idle();
  return lines.slice(before);
}

async function until(host: XsHost, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    await host.idle();
  }
}

describe("the firmware bundle inside the real XS engine", () => {
  const hosts: XsHost[] = [];
  afterAll(async () => {
    for (const host of hosts) await host.close();
  });
  async function started() {
    const made = makeHost();
    hosts.push(made.host);
    await made.host.evaluate(bundle);
    return made;
  }

  it("drives the virtual board's pins through the IO seam", async () => {
    const { host, board, lines } = await started();
    await run(host, lines, `const D = __esplab.platform.io.Digital; globalThis.led = new D({ pin: 4, mode: D.Output }); led.write(1);`);
    expect(board.nets.firmwareSide(4)?.level).toBe(1);
    expect(board.nets.level(4)).toBe(1);
  });

  it("carries the board's errors into XS with their message", async () => {
    const { host, lines } = await started();
    const printed = await run(host, lines, `try { new __esplab.platform.io.Digital({ pin: 7, mode: 0 }); } catch (e) { log(e.code + ": " + e.message); }`);
    expect(printed.join("\n")).toMatch(/^PIN: Digital: GPIO7 is wired to the SPI flash/);
  });

  it("runs timers set inside XS on the host clock", async () => {
    const { host, lines } = await started();
    await run(host, lines, `__esplab.platform.clock.setTimeout(() => log("fired at " + (__esplab.platform.clock.now() > 0)), 5);`);
    await until(host, () => lines.includes("fired at true"));
    expect(lines).toContain("fired at true");
  });

  it("round-trips storage values, binary included", async () => {
    const { host, storage, lines } = await started();
    await run(host, lines, `const s = __esplab.platform.storage; s.set("mqtt", "q0", new Uint8Array([1, 2, 250]).buffer); s.set("mqtt", "n", 42);`);
    expect([...new Uint8Array(storage.get("mqtt", "q0") as ArrayBuffer)]).toEqual([1, 2, 250]);
    const printed = await run(host, lines, `const v = __esplab.platform.storage.get("mqtt", "q0"); log(Array.from(new Uint8Array(v)).join(",") + " " + __esplab.platform.storage.get("mqtt", "n"));`);
    expect(printed).toEqual(["1,2,250 42"]);
  });

  it("carries text beyond ASCII both ways, surrogate pairs included", async () => {
    const { host, storage, lines } = await started();
    storage.set("ui", "greeting", "servo 90° – ok 👍");
    const printed = await run(host, lines, `const g = __esplab.platform.storage.get("ui", "greeting"); log(g + " " + g.length); __esplab.platform.storage.set("ui", "back", "é€😀");`);
    expect(printed).toEqual(["servo 90° – ok 👍 17"]);
    expect(storage.get("ui", "back")).toBe("é€😀");
  });

  it("opens real sockets through the Transport seam", async () => {
    const server = net.createServer((socket) => socket.on("data", (data) => socket.write(Buffer.concat([Buffer.from("echo:"), data]))));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { host, lines } = await started();
      await run(
        host,
        lines,
        `__esplab.platform.transport.connect({ host: "127.0.0.1", port: ${port} }, {
           onData(bytes) { log("got " + String.fromCharCode(...bytes)); globalThis.conn.close(); },
           onClose(error) { log("closed " + (error ? error.message : "cleanly")); },
         }).then((c) => { globalThis.conn = c; c.write(new Uint8Array([104, 105])); });`,
      );
      await until(host, () => lines.some((l) => l.startsWith("closed")));
      expect(lines).toContain("got echo:hi");
      expect(lines).toContain("closed cleanly");
    } finally {
      server.close();
    }
  });

  it("reports a refused connection as a TransportError inside XS", async () => {
    const { host, lines } = await started();
    await run(host, lines, `__esplab.platform.transport.connect({ host: "127.0.0.1", port: 1 }, { onData() {}, onClose() {} }).catch((e) => log(e.name + " " + e.code));`);
    await until(host, () => lines.some((l) => l.startsWith("TransportError")));
    expect(lines).toContain("TransportError REFUSED");
  });

  it("rejects an unknown app with the list of apps", async () => {
    const { host, lines } = await started();
    await expect(host.evaluate(`__esplab.start({ app: "no-such-app" })`)).rejects.toThrow(/app "no-such-app" does not exist/);
  });
});
