import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScenarioFile } from "../../../host-tools/scenario/session.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-virtual-time-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, text: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

describe("a scenario's virtual time", () => {
  it("gives each step its time on the scenario's clock, to the millisecond", async () => {
    const file = scenario("waits", 'name: waits\napp: board-check\nsteps:\n  - wait: 90s\n  - press: "7"\n  - expect: { lcd: "key 7", within: 2s }\n');
    const { result } = await runScenarioFile(file);
    expect(result.passed).toBe(true);
    // 90 s of timers, and at most the end of a blocking wait (an LCD transfer) that was under way at the 90th second
    expect(result.results[0]!.ms).toBeGreaterThanOrEqual(90_000);
    expect(result.results[0]!.ms).toBeLessThan(90_050);
    // a key is held 120 ms and released for 120 ms
    expect(result.results[1]!.ms).toBeGreaterThanOrEqual(240);
    expect(result.results[1]!.ms).toBeLessThan(290);
  }, 60_000);

  it("names a connection outside the local cloud on the serial console, whose answers it does not wait for", async () => {
    // a broker of someone else's that takes the connection and never answers
    const sockets: net.Socket[] = [];
    const foreign = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    const port = (foreign.address() as net.AddressInfo).port;
    try {
      const file = scenario(
        "foreign",
        `name: foreign broker\napp: telemetry\nconfig: { mqtt_url: "mqtt://127.0.0.1:${port}" }\nsteps:\n  - expect: { serial: "outside the local cloud", within: 5s }\n`,
      );
      const { result } = await runScenarioFile(file);
      expect(result.results[0]!.message).toMatch(new RegExp(`serial: esplab: 127\\.0\\.0\\.1:${port} is outside the local cloud; .*--real-time`));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => foreign.close(resolve));
    }
  }, 60_000);
});
