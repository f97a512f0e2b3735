import { describe, expect, it } from "vitest";
import type { TextDisplay } from "../../../firmware/apps/devices.ts";
import type { Storage } from "../../../firmware/ports/storage.ts";
import { FAILURES_KEY, LOCKOUT_DOMAIN, LOCKOUT_LEFT_KEY, PasswordEntry } from "../../../firmware/ui/password-entry.ts";
import { MemoryStorage } from "../../../host-tools/platform/file-storage.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

/** A 16x2 text buffer standing in for the LCD, and a key source the test types on. */
function rig(storage?: Storage) {
  const lines = [" ".repeat(16), " ".repeat(16)];
  let cursor = [0, 0];
  const everything: string[] = [];
  const display: TextDisplay = {
    columns: 16,
    rows: 2,
    clear: () => lines.fill(" ".repeat(16)),
    setCursor: (c, r) => (cursor = [c, r]),
    print: (text) => {
      everything.push(text);
      const [c, r] = cursor as [number, number];
      lines[r] = (lines[r]!.slice(0, c) + text + lines[r]!.slice(c + text.length)).slice(0, 16);
    },
  };
  const listeners = new Set<(key: string) => void>();
  const keys = { onKey: (l: (key: string) => void) => (listeners.add(l), () => listeners.delete(l)) };
  const type = (text: string) => [...text].forEach((key) => [...listeners].forEach((l) => l(key)));
  // A new rig is a boot: the monotonic clock starts again at 0.
  const clock = new VirtualClock();
  const entry = new PasswordEntry({ display, keys, clock, lockoutMs: 10_000, storage });
  return { lines, everything, type, clock, entry };
}

describe("password entry on keypad and LCD", () => {
  it("masks digits, deletes with *, submits with #", async () => {
    const { lines, type, entry } = rig();
    const password = entry.ask();
    await Promise.resolve();
    type("12");
    expect(lines).toEqual(["Password:       ", "**              "]);
    type("3*45#");
    expect(await password).toBe("1245");
    expect(lines[1]).toBe(" ".repeat(16));
  });

  it("never shows the password itself", async () => {
    const { everything, type, entry } = rig();
    const password = entry.ask();
    await Promise.resolve();
    type("908172#");
    await password;
    expect(everything.join("|")).not.toMatch(/9|0|8|1|7|2/);
  });

  it("says the password was wrong, then locks out with a doubling delay", async () => {
    const { lines, type, entry, clock } = rig();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const p = entry.ask();
      await clock.advance(0);
      type("1#");
      await p;
      entry.rejected();
    }
    expect(lines).toEqual(["Wrong password  ", "Locked 10 s     "]);
    let answered = false;
    const next = entry.ask().then(() => (answered = true));
    await clock.advance(1);
    expect(lines[0]).toBe("Too many tries  ");
    type("1#"); // ignored while locked
    await clock.advance(9_000);
    expect(answered).toBe(false);
    await clock.advance(1_100);
    type("2#");
    await clock.advance(0);
    await next;
    entry.rejected();
    expect(entry.lockedForMs).toBe(20_000);
    entry.accepted();
    expect(entry.lockedForMs).toBe(0);
  });
});

describe("password entry verifying a device-kept password", () => {
  it("accepts the right one, rejects a wrong one with a message, and never shows either", async () => {
    const { lines, everything, type, entry, clock } = rig();
    const wrong = entry.verify("4711");
    await clock.advance(0);
    type("4712#");
    expect(await wrong).toBe(false);
    expect(lines).toEqual(["Wrong password  ", "2 tries left    "]);
    const right = entry.verify("4711");
    await clock.advance(0);
    type("47711*1*#"); // 47711, delete → 4771, 1 → 47711, delete → 4771: submitted as 4771
    expect(await right).toBe(false);
    const again = entry.verify("4711");
    await clock.advance(0);
    type("47*712#"); // 4, 7, delete, 7, 1, 2 → 4712
    expect(await again).toBe(false); // third failure: locked
    expect(entry.lockedForMs).toBe(10_000);
    await clock.advance(10_001);
    const last = entry.verify("4711");
    await clock.advance(1_000);
    type("4711#");
    expect(await last).toBe(true);
    expect(entry.failures).toBe(0);
    expect(lines[0]).toBe("Welcome         ");
    expect(everything.join("|")).not.toMatch(/47|71|77/); // no piece of any typed password
  });

  it("lockout grows 10 s, 20 s, 40 s… up to the cap", async () => {
    const { type, entry, clock } = rig();
    const lockouts: number[] = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      await clock.advance(entry.lockedForMs + 1_000);
      const result = entry.verify("1");
      await clock.advance(0);
      type("2#");
      await result;
      lockouts.push(entry.lockedForMs);
    }
    expect(lockouts).toEqual([0, 0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000]);
  });
});

describe("password entry lockout across a reboot", () => {
  async function fail(r: ReturnType<typeof rig>, typed = "2580#") {
    const result = r.entry.verify("4711");
    await r.clock.advance(0);
    r.type(typed);
    expect(await result).toBe(false);
  }
  const everythingStored = (storage: Storage) =>
    storage.keys(LOCKOUT_DOMAIN).map((key) => `${key}=${String(storage.get(LOCKOUT_DOMAIN, key))}`);

  it("keeps the failure count: a reboot gives no fresh tries", async () => {
    const storage = new MemoryStorage();
    const first = rig(storage);
    await fail(first);
    await fail(first);
    expect(first.lines[1]).toBe("1 tries left    ");
    const rebooted = rig(storage);
    expect(rebooted.entry.failures).toBe(2);
    expect(rebooted.entry.lockedForMs).toBe(0);
    await fail(rebooted); // the third failure overall locks
    expect(rebooted.entry.lockedForMs).toBe(10_000);
  });

  it("re-arms the lockout left at boot, and a reboot never shortens it", async () => {
    const storage = new MemoryStorage();
    const first = rig(storage);
    for (let i = 0; i < 4; i++) {
      await first.clock.advance(first.entry.lockedForMs + 1);
      await fail(first);
    }
    expect(first.entry.lockedForMs).toBe(20_000);
    // Wait 13 s of the 20 s, then reboot: the new clock starts at 0, the lockout still has at least 7 s to run.
    void first.entry.ask();
    await first.clock.advance(13_000);
    const left = first.entry.lockedForMs;
    expect(left).toBe(7_000);
    const rebooted = rig(storage);
    expect(rebooted.clock.now()).toBe(0);
    expect(rebooted.entry.lockedForMs).toBeGreaterThanOrEqual(left);
    expect(rebooted.entry.lockedForMs).toBeLessThanOrEqual(left + 10_000);
    let answered = false;
    const next = rebooted.entry.ask().then((typed) => ((answered = true), typed));
    await rebooted.clock.advance(0);
    expect(rebooted.lines).toEqual(["Too many tries  ", `Wait ${Math.ceil(rebooted.entry.lockedForMs / 1000)} s`.padEnd(16)]);
    rebooted.type("1#"); // ignored while locked
    await rebooted.clock.advance(left - 1);
    expect(answered).toBe(false);
    await rebooted.clock.advance(rebooted.entry.lockedForMs + 1);
    rebooted.type("4711#");
    expect(await next).toBe("4711");
    // Once it has run out, the next failure doubles it again: the count came through the reboot too.
    rebooted.entry.rejected();
    expect(rebooted.entry.lockedForMs).toBe(40_000);
  });

  it("rebooting over and over does not wear the lockout down", async () => {
    const storage = new MemoryStorage();
    let r = rig(storage);
    for (let i = 0; i < 3; i++) await fail(r);
    expect(r.entry.lockedForMs).toBe(10_000);
    let waited = 0;
    for (let boot = 0; boot < 20; boot++) {
      void r.entry.ask();
      await r.clock.advance(900);
      waited += 900;
      r = rig(storage);
      expect(waited + r.entry.lockedForMs).toBeGreaterThanOrEqual(10_000);
    }
  });

  it("a right password clears what was kept; only counts and durations are ever stored", async () => {
    const storage = new MemoryStorage();
    const first = rig(storage);
    for (let i = 0; i < 3; i++) await fail(first, "908172#");
    expect(everythingStored(storage).sort()).toEqual([`${FAILURES_KEY}=3`, `${LOCKOUT_LEFT_KEY}=10000`]);
    expect(everythingStored(storage).join(" ")).not.toMatch(/908172|4711/);
    const rebooted = rig(storage);
    await rebooted.clock.advance(10_001);
    const right = rebooted.entry.verify("4711");
    await rebooted.clock.advance(1_000);
    rebooted.type("4711#");
    expect(await right).toBe(true);
    expect(everythingStored(storage)).toEqual([]);
    expect(rig(storage).entry.failures).toBe(0);
  });

  it("values it did not write (wrong type, negative, absurdly long) neither crash nor lock forever", () => {
    const storage = new MemoryStorage();
    storage.set(LOCKOUT_DOMAIN, FAILURES_KEY, "three");
    storage.set(LOCKOUT_DOMAIN, LOCKOUT_LEFT_KEY, -5);
    expect(rig(storage).entry.failures).toBe(0);
    expect(rig(storage).entry.lockedForMs).toBe(0);
    storage.set(LOCKOUT_DOMAIN, LOCKOUT_LEFT_KEY, 1e12);
    expect(rig(storage).entry.lockedForMs).toBe(300_000); // the configured cap
  });
});
