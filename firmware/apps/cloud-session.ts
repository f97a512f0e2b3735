import { connectFirebase, firebaseConfigFrom, type FirebaseConnection } from "../net/firebase/connect.ts";
import { FirebaseAuthError } from "../net/firebase/auth-errors.ts";
import type { Platform } from "../ports/index.ts";
import type { FirmwareConfig } from "./config.ts";
import { showLines, type TextDisplay } from "./devices.ts";

/** Codes that mean "the typed password is wrong": the user may try again. */
const WRONG_PASSWORD = new Set(["INVALID_PASSWORD", "INVALID_LOGIN_CREDENTIALS", "MISSING_PASSWORD"]);

/** Where a typed password comes from, and where its fate is told (firmware/ui/password-entry.ts). */
export interface PasswordSource {
  ask(): Promise<string>;
  accepted(): void;
  rejected(): void;
}

/** How the device signs in, from its configuration. */
export function signInMode(config: FirmwareConfig): "service-account" | "id-token" | "keypad-password" | "password" | "anonymous" | "none" {
  const v = config.values;
  if (v.firebase_client_email || v.firebase_private_key) return "service-account";
  if (!v.firebase_api_key) return "none";
  if (v.firebase_refresh_token) return "id-token";
  if (v.firebase_email && v.firebase_password) return "password";
  if (v.firebase_email) return "keypad-password";
  return v.firebase_anonymous === true || v.firebase_anonymous === "true" ? "anonymous" : "none";
}

/**
 * Connects to Firebase the way the configuration says. With an email but no stored password (Assignment 2), the
 * password is asked for on the keypad and never kept: a wrong one is reported and asked for again.
 */
export async function openFirebase(
  platform: Platform,
  config: FirmwareConfig,
  display: TextDisplay,
  passwords?: PasswordSource,
  stopped: () => boolean = () => false,
): Promise<FirebaseConnection> {
  const base = firebaseConfigFrom(config.values);
  const mode = signInMode(config);
  showLines(display, "Connecting...", mode === "id-token" ? "Auth: ID token" : mode === "none" ? "No auth" : `Auth: ${mode}`);
  if (mode !== "keypad-password") {
    const connection = await connectFirebase(platform, base);
    platform.log(`firebase: signed in (${mode === "none" ? "no auth" : mode})`);
    return connection;
  }
  if (!passwords) throw new FirebaseAuthError("MISSING_PASSWORD", 400, "this app cannot ask for a password");
  for (;;) {
    const password = await passwords.ask();
    if (stopped()) throw new FirebaseAuthError("CANCELLED", 0, "stopped");
    showLines(display, "Signing in...", "");
    try {
      const connection = await connectFirebase(platform, { ...base, password });
      platform.log("firebase: signed in");
      passwords.accepted();
      return connection;
    } catch (error) {
      if (!(error instanceof FirebaseAuthError) || !WRONG_PASSWORD.has(error.authCode)) throw error;
      platform.log("firebase: wrong password");
      passwords.rejected();
      await new Promise<void>((resolve) => platform.clock.setTimeout(resolve, 1500));
    }
  }
}
