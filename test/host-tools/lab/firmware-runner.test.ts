import { describe, expect, it } from "vitest";
import { BuildError } from "../../../host-tools/build/firmware-bundle.ts";
import { FirmwareRunner, type FirmwareStatus } from "../../../host-tools/lab/firmware-runner.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";

const SYNTAX = { message: "firmware/apps/a.ts:3:7 TS1134: Variable declaration expected.", file: "/x/firmware/apps/a.ts", line: 3, column: 7, frame: "3 const = 1;\n        ~" };

/** A runner on the Node engine (the firmware starts in this process), with builds that fail while `broken` is set. */
function setup(app = "board-check") {
  const device = new VirtualDevice({ config: { app }, engine: "node" });
  let builds = 0;
  let broken = false;
  let settings = { app };
  const runner = new FirmwareRunner({
    device,
    build: async () => {
      builds++;
      if (broken) throw new BuildError(SYNTAX);
      return "bundle.js";
    },
    settings: () => settings,
  });
  const seen: FirmwareStatus["state"][] = [];
  runner.listen((status) => seen.push(status.state));
  return {
    device,
    runner,
    seen,
    get builds() {
      return builds;
    },
    break: (value: boolean) => void (broken = value),
    settle: (value: { app: string }) => void (settings = value),
  };
}

describe("FirmwareRunner (the lab's edit-run loop)", () => {
  it("a save builds, resets and runs; Reset restarts the same bundle without building", async () => {
    const lab = setup();
    await lab.runner.rebuild();
    expect(lab.seen).toEqual(["building", "resetting", "running"]);
    expect(lab.runner.status).toEqual({ state: "running" });
    await lab.runner.reset();
    await lab.runner.reset();
    expect(lab.builds).toBe(1);
    expect(lab.seen.slice(3)).toEqual(["resetting", "running", "resetting", "running"]);
    await lab.runner.stop();
  });

  it("a failed build stops the firmware and names the file, line and frame; the next save recovers", async () => {
    const lab = setup();
    await lab.runner.rebuild();
    lab.break(true);
    await expect(lab.runner.rebuild()).resolves.toBeUndefined();
    expect(lab.runner.status).toEqual({ state: "not running", problem: { kind: "build", ...SYNTAX } });
    const [diagnostic] = lab.device.board.diagnostics.of("firmware", "error");
    expect(diagnostic!.message).toBe(`the firmware does not build: ${SYNTAX.message}\n${SYNTAX.frame}`);

    // Reset with no good bundle builds (it has nothing to reuse) and reports the same problem.
    await lab.runner.reset();
    expect(lab.builds).toBe(3);
    expect(lab.runner.status.state).toBe("not running");
    lab.break(false);
    await lab.runner.rebuild();
    expect(lab.runner.status).toEqual({ state: "running" });
    await lab.runner.stop();
  });

  it("a firmware that throws while starting (an unknown app) is 'not running' with the error; fixed settings run on Reset", async () => {
    const lab = setup("no-such-app");
    await lab.runner.rebuild();
    expect(lab.runner.status.state).toBe("not running");
    expect(lab.runner.status.problem).toMatchObject({ kind: "start", message: expect.stringMatching(/app "no-such-app" does not exist — set app to one of: .*board-check/) });
    expect(lab.device.board.diagnostics.of("firmware", "error")[0]!.message).toMatch(/^the firmware did not start: app "no-such-app" does not exist/);
    lab.settle({ app: "board-check" });
    await lab.runner.reset();
    expect(lab.runner.status).toEqual({ state: "running" });
    expect(lab.builds).toBe(1);
    await lab.runner.stop();
  });

  it("an LCD at an address nothing answers on is a start-up error naming the address, and the page's Diagnostics get it", async () => {
    const device = new VirtualDevice({ config: { app: "board-check", lcd_address: 0x3f }, engine: "node" });
    const runner = new FirmwareRunner({ device });
    await runner.rebuild();
    expect(runner.status).toMatchObject({ state: "not running", problem: { kind: "start", message: expect.stringMatching(/0x3F/i) } });
    expect(device.board.diagnostics.of("firmware", "error")[0]!.message).toMatch(/^the firmware did not start: .*0x3F/i);
    await runner.stop();
  });

  it("steps never overlap, and none runs after stop", async () => {
    const lab = setup();
    const all = [lab.runner.rebuild(), lab.runner.reset(), lab.runner.rebuild()];
    await Promise.all(all);
    expect(lab.seen).toEqual(["building", "resetting", "running", "resetting", "running", "building", "resetting", "running"]);
    await lab.runner.stop();
    await lab.runner.rebuild();
    expect(lab.builds).toBe(2);
    expect(lab.seen.slice(8)).toEqual(["not running"]);
  });
});
