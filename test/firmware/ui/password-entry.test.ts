import { describe, expect, it } from "vitest";
import type { TextDisplay } from "../../../firmware/apps/devices.ts";
import { PasswordEntry } from "../../../firmware/ui/password-entry.ts";
import { VirtualClock } from "../../../host-tools/platform/virtual-clock.ts";

/** A 16x2 text buffer standing in for the LCD, and a key source the test types on. */
function rig() {
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
  const clock = new VirtualClock();
  const entry = new PasswordEntry({ display, keys, clock, lockoutMs: 10_000 });
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
