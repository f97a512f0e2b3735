import { afterEach, describe, expect, it } from "vitest";
import { LOCKOUT_DOMAIN } from "../../../firmware/ui/password-entry.ts";
import { startLocalCloud, type LocalCloud } from "../../../host-tools/cloud/index.ts";
import { MemoryStorage } from "../../../host-tools/platform/file-storage.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";
import { VirtualDevice } from "../../../host-tools/runtime/virtual-device.ts";

/**
 * Assignment 2 against the local cloud on virtual time: the firmware's timers move only when the test advances the
 * clock, while the sign-in requests travel over real sockets. A reboot is a new device (its clock starts at 0) on the
 * same storage.
 */
describe("Assignment 2's keypad lockout across a reboot", () => {
  let cloud: LocalCloud | undefined;
  const devices: VirtualDevice[] = [];
  afterEach(async () => {
    for (const device of devices.splice(0)) await device.stop();
    await cloud?.close();
  });

  function boot(storage: MemoryStorage) {
    const clock = new VirtualClock();
    const device = new VirtualDevice({ config: { ...cloud!.firmwareConfig, app: "assignment2" }, clock, storage });
    devices.push(device);
    const lcd = () => (device.board.parts.find((part) => part.type === "lcd1602-i2c")!.snapshot() as { lines: string[] }).lines;
    const keypad = device.board.parts.find((part) => part.type === "keypad-4x4") as unknown as { press(k: string): void; release(k: string): void };
    /** Advances virtual time in small steps, letting real I/O in between, until `condition` holds. */
    const runUntil = async (condition: () => boolean, what: string, limitMs = 60_000) => {
      for (let spent = 0; !condition(); spent += 50) {
        if (spent > limitMs) throw new Error(`${what} not reached; LCD: ${JSON.stringify(lcd())}`);
        await clock.advance(50);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    const press = async (keys: string) => {
      for (const key of keys) {
        keypad.press(key);
        await clock.advance(80);
        keypad.release(key);
        await clock.advance(80);
      }
    };
    return { device, clock, lcd, press, runUntil };
  }

  it("three wrong passwords lock the keypad, and the reboot that follows still shows the lockout", async () => {
    cloud = await startLocalCloud({ databasePort: 0, authPort: 0, mqttPort: 0 });
    const storage = new MemoryStorage();
    const first = boot(storage);
    await first.device.start();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await first.runUntil(() => first.lcd()[0]!.startsWith("Password:"), `password prompt ${attempt}`);
      await first.press("111111#");
      await first.runUntil(() => first.lcd()[0]!.startsWith("Wrong password"), `wrong password ${attempt}`);
    }
    expect(first.lcd()[1]).toMatch(/^Locked 10 s/);
    await first.device.stop();
    expect(JSON.stringify(storage.keys(LOCKOUT_DOMAIN).map((key) => storage.get(LOCKOUT_DOMAIN, key)))).not.toContain("111111");

    const rebooted = boot(storage);
    await rebooted.device.start();
    await rebooted.runUntil(() => rebooted.lcd()[0]!.startsWith("Too many tries"), "the lockout after the reboot");
    await rebooted.press("123456#"); // the right password, typed while locked: ignored
    await rebooted.runUntil(() => rebooted.clock.now() >= 9_000, "9 s after boot");
    expect(rebooted.lcd()[0]).toMatch(/^Too many tries/);
    expect(rebooted.device.serial.lines.some((line) => line.text.includes("signed in"))).toBe(false);
    await rebooted.runUntil(() => rebooted.lcd()[0]!.startsWith("Password:"), "the prompt once the lockout has run out");
    await rebooted.press("123456#");
    await rebooted.runUntil(() => rebooted.device.serial.lines.some((line) => line.text.includes("firebase: signed in")), "sign-in");
    expect(storage.keys(LOCKOUT_DOMAIN)).toEqual([]);
  }, 60_000);
});
