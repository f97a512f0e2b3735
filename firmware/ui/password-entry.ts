import type { Clock } from "../ports/clock.ts";
import type { Storage } from "../ports/storage.ts";
import type { KeyEvents, TextDisplay } from "../apps/devices.ts";
import { secretsEqual } from "./constant-time.ts";

export interface PasswordEntryOptions {
  display: TextDisplay;
  keys: KeyEvents;
  clock: Clock;
  prompt?: string;
  maxLength?: number;
  /** Failures allowed before the first lockout; each later failure doubles it. */
  freeAttempts?: number;
  lockoutMs?: number;
  maxLockoutMs?: number;
  /** Where the failure count and the lockout left are kept, so a reboot neither forgets nor shortens them. */
  storage?: Storage;
}

/** Storage names (NVS: 15 characters at most). Only counts and durations are kept, never a typed password. */
export const LOCKOUT_DOMAIN = "keypad";
export const FAILURES_KEY = "failures";
export const LOCKOUT_LEFT_KEY = "lockoutLeftMs";
/** How often the lockout left is written down while it runs out (a reboot then waits at most this much extra). */
const CHECKPOINT_MS = 10_000;

/**
 * Password entry on the keypad with LCD feedback: digits show as "*", "*" deletes the last one, "#" submits.
 * The caller checks the password and calls rejected() when it is wrong: the LCD says so, and after `freeAttempts`
 * failures entry locks for a delay that doubles each time. The typed password exists only until it is handed over:
 * never shown, logged or kept. With `storage`, the count and the lockout survive a reboot: the clock restarts at
 * boot, so what is kept is the lockout still to wait, re-armed from the new boot's clock.
 */
export class PasswordEntry {
  readonly #display: TextDisplay;
  readonly #keys: KeyEvents;
  readonly #clock: Clock;
  readonly #prompt: string;
  readonly #maxLength: number;
  readonly #freeAttempts: number;
  readonly #lockoutMs: number;
  readonly #maxLockoutMs: number;
  readonly #storage: Storage | undefined;
  #failures = 0;
  #lockedUntil = 0;
  #savedLeftMs = 0;

  constructor(options: PasswordEntryOptions) {
    this.#display = options.display;
    this.#keys = options.keys;
    this.#clock = options.clock;
    this.#prompt = options.prompt ?? "Password:";
    this.#maxLength = Math.min(options.maxLength ?? 16, options.display.columns);
    this.#freeAttempts = options.freeAttempts ?? 3;
    this.#lockoutMs = options.lockoutMs ?? 10_000;
    this.#maxLockoutMs = options.maxLockoutMs ?? 300_000;
    this.#storage = options.storage;
    if (this.#storage) {
      this.#failures = storedCount(this.#storage.get(LOCKOUT_DOMAIN, FAILURES_KEY));
      const left = Math.min(this.#maxLockoutMs, storedCount(this.#storage.get(LOCKOUT_DOMAIN, LOCKOUT_LEFT_KEY)));
      if (left > 0) {
        this.#lockedUntil = this.#clock.now() + left;
        this.#savedLeftMs = left;
      }
    }
  }

  get failures(): number {
    return this.#failures;
  }

  /** Milliseconds of lockout left (0 when entry is open). */
  get lockedForMs(): number {
    return Math.max(0, this.#lockedUntil - this.#clock.now());
  }

  /** Waits out any lockout, then collects one password (resolved on "#"). */
  async ask(): Promise<string> {
    await this.#waitLockout();
    return new Promise((resolve) => {
      let typed = "";
      const show = () => {
        this.#line(0, this.#prompt);
        this.#line(1, "*".repeat(typed.length));
      };
      show();
      const stop = this.#keys.onKey((key) => {
        if (key === "#") {
          if (typed.length === 0) return;
          stop();
          const password = typed;
          typed = "";
          this.#line(1, "");
          resolve(password);
        } else if (key === "*") {
          typed = typed.slice(0, -1);
          show();
        } else if (/^[0-9]$/.test(key) && typed.length < this.#maxLength) {
          typed += key;
          show();
        }
      });
    });
  }

  /**
   * For a password kept on the device: asks once, compares in constant time, and counts the result (a wrong one
   * shows the message and may start a lockout). The typed text is dropped as soon as it is compared.
   */
  async verify(expected: string): Promise<boolean> {
    const typed = await this.ask();
    const right = secretsEqual(typed, expected);
    if (right) {
      this.accepted();
      this.#line(0, "Welcome");
      this.#line(1, "");
    } else this.rejected();
    return right;
  }

  /** The password was right: failures are forgotten. */
  accepted(): void {
    this.#failures = 0;
    this.#lockedUntil = 0;
    this.#storage?.delete(LOCKOUT_DOMAIN, LOCKOUT_LEFT_KEY);
    this.#storage?.delete(LOCKOUT_DOMAIN, FAILURES_KEY);
    this.#savedLeftMs = 0;
  }

  /** The password was wrong: say so, and lock entry after too many tries. */
  rejected(): void {
    this.#failures++;
    const over = this.#failures - this.#freeAttempts;
    if (over >= 0) {
      const lockout = Math.min(this.#maxLockoutMs, this.#lockoutMs * 2 ** over);
      this.#lockedUntil = this.#clock.now() + lockout;
      // The lockout first: losing power between the two writes must not leave a count without its lockout.
      this.#saveLeft(lockout);
    }
    this.#storage?.set(LOCKOUT_DOMAIN, FAILURES_KEY, this.#failures);
    this.#line(0, "Wrong password");
    this.#line(1, over >= 0 ? `Locked ${Math.ceil(this.lockedForMs / 1000)} s` : `${this.#freeAttempts - this.#failures} tries left`);
  }

  async #waitLockout(): Promise<void> {
    while (this.lockedForMs > 0) {
      this.#line(0, "Too many tries");
      this.#line(1, `Wait ${Math.ceil(this.lockedForMs / 1000)} s`);
      await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, Math.min(1000, this.lockedForMs)));
      const left = this.lockedForMs;
      if (left === 0 || this.#savedLeftMs - left >= CHECKPOINT_MS) this.#saveLeft(left);
    }
  }

  /** Writes what is left now: what storage holds is never less than what is really left. */
  #saveLeft(ms: number): void {
    if (!this.#storage) return;
    // Preference keeps whole numbers; rounding up never shortens.
    const whole = Math.ceil(ms);
    if (whole > 0) this.#storage.set(LOCKOUT_DOMAIN, LOCKOUT_LEFT_KEY, whole);
    else this.#storage.delete(LOCKOUT_DOMAIN, LOCKOUT_LEFT_KEY);
    this.#savedLeftMs = whole;
  }

  #line(row: number, text: string): void {
    this.#display.setCursor(0, row);
    this.#display.print(text.slice(0, this.#display.columns).padEnd(this.#display.columns, " "));
  }
}

/** A count or duration read back from storage; anything else (absent, or written by something else) is 0. */
function storedCount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.ceil(value) : 0;
}
