import { UsageError } from "../../core/errors.ts";
import type { Clock } from "../../ports/clock.ts";
import type { Storage } from "../../ports/storage.ts";
import type { TlsOptions, Transport } from "../../ports/transport.ts";
import { HttpClient } from "../http/client.ts";
import { FirebaseAuth } from "./auth.ts";
import { FirebaseAuthError } from "./auth-errors.ts";
import { Database } from "./rtdb.ts";
import { ServiceAccountCredential } from "./service-account.ts";

/** The firmware's Firebase settings (flat config keys in parentheses). */
export interface FirebaseConfig {
  /** Web API key (`firebase_api_key`). */
  apiKey?: string;
  /** Database URL (`firebase_database_url`). */
  databaseUrl: string;
  /** `host:port` of a database emulator (`firebase_database_emulator_host`), like FIREBASE_DATABASE_EMULATOR_HOST. */
  databaseEmulatorHost?: string;
  /** `host:port` of an Auth emulator (`firebase_auth_emulator_host`), like FIREBASE_AUTH_EMULATOR_HOST. */
  authEmulatorHost?: string;
  /** Email/password sign-in (`firebase_email`, `firebase_password`). */
  email?: string;
  password?: string;
  /** ID-token mode (`firebase_refresh_token`, optional `firebase_id_token`): no password on the device. */
  refreshToken?: string;
  idToken?: string;
  /** Sign in anonymously when nothing else is configured (`firebase_anonymous`). */
  anonymous?: boolean;
  /** A legacy database secret (`firebase_database_secret`): the database past its rules, no Auth (deprecated by Firebase). */
  databaseSecret?: string;
  /**
   * A service account (`firebase_client_email`, `firebase_private_key`, optional `firebase_token_uri` and
   * `firebase_private_key_id`, from its JSON key file): OAuth access tokens, the database past its rules. With
   * `authEmulatorHost` the token requests go to the local cloud.
   */
  serviceAccount?: { clientEmail: string; privateKey: string; tokenUri?: string; privateKeyId?: string };
}

type Flat = Record<string, string | number | boolean | undefined>;

/** Reads the `firebase_*` keys of the flat firmware configuration. */
export function firebaseConfigFrom(values: Flat): FirebaseConfig {
  const text = (key: string) => {
    const value = values[key];
    return value === undefined || value === "" ? undefined : String(value);
  };
  const databaseUrl = text("firebase_database_url");
  if (!databaseUrl) {
    throw new UsageError("CONFIG", "firebase_database_url is not set: give https://<db>.firebaseio.com (or the emulator's http://127.0.0.1:9000?ns=<db>)");
  }
  return {
    apiKey: text("firebase_api_key"),
    databaseUrl,
    databaseEmulatorHost: text("firebase_database_emulator_host"),
    authEmulatorHost: text("firebase_auth_emulator_host"),
    email: text("firebase_email"),
    password: text("firebase_password"),
    refreshToken: text("firebase_refresh_token"),
    idToken: text("firebase_id_token"),
    anonymous: values.firebase_anonymous === true || values.firebase_anonymous === "true",
    databaseSecret: text("firebase_database_secret"),
    serviceAccount: serviceAccountFrom(text),
  };
}

function serviceAccountFrom(text: (key: string) => string | undefined): FirebaseConfig["serviceAccount"] {
  const clientEmail = text("firebase_client_email");
  const privateKey = text("firebase_private_key");
  if (!clientEmail && !privateKey) return undefined;
  if (!clientEmail || !privateKey) {
    throw new UsageError("CONFIG", `a service account needs both firebase_client_email and firebase_private_key (from its JSON key file); ${clientEmail ? "firebase_private_key" : "firebase_client_email"} is not set`);
  }
  return { clientEmail, privateKey, tokenUri: text("firebase_token_uri"), privateKeyId: text("firebase_private_key_id") };
}

export interface FirebaseConnection {
  http: HttpClient;
  auth: FirebaseAuth | undefined;
  /** Set when the device works as a service account (then `auth` is undefined). */
  serviceAccount?: ServiceAccountCredential;
  db: Database;
}

/**
 * Builds the HTTP client, Auth and Database from config, and signs in: a service account, when configured, gets its
 * first access token; otherwise a configured refresh token (ID-token mode) wins, then a refresh token saved by an
 * earlier boot, then email/password, then anonymous if enabled. Without an API key the database is used
 * unauthenticated (open rules or an emulator).
 */
export async function connectFirebase(
  platform: { transport: Transport; clock: Clock; storage?: Storage; tls?: TlsOptions },
  config: FirebaseConfig,
): Promise<FirebaseConnection> {
  const http = new HttpClient({ transport: platform.transport, clock: platform.clock, tls: platform.tls });
  if (config.serviceAccount) {
    const account = config.serviceAccount;
    const serviceAccount = new ServiceAccountCredential({
      key: { client_email: account.clientEmail, private_key: account.privateKey, token_uri: account.tokenUri, private_key_id: account.privateKeyId },
      http,
      clock: platform.clock,
      emulatorHost: config.authEmulatorHost,
    });
    await serviceAccount.getAccessToken(); // a refused key shows at boot, not at the first write
    const db = new Database({ databaseUrl: config.databaseUrl, http, clock: platform.clock, auth: serviceAccount, emulatorHost: config.databaseEmulatorHost });
    return { http, auth: undefined, serviceAccount, db };
  }
  let auth: FirebaseAuth | undefined;
  if (config.apiKey) {
    auth = new FirebaseAuth({ apiKey: config.apiKey, http, clock: platform.clock, storage: platform.storage, emulatorHost: config.authEmulatorHost });
    const canSignIn = Boolean((config.email && config.password) || config.anonymous);
    if (config.refreshToken) {
      auth.useTokens({ refreshToken: config.refreshToken, idToken: config.idToken });
    } else if (!(await restored(auth, canSignIn))) {
      if (config.email && config.password) await auth.signInWithPassword(config.email, config.password);
      else if (config.anonymous) await auth.signInAnonymously();
      else {
        throw new UsageError(
          "CONFIG",
          "firebase_api_key is set but there is no way to sign in: set firebase_refresh_token (ID-token mode), firebase_email and firebase_password, or firebase_anonymous=true",
        );
      }
    }
  }
  // With an ID token the secret is not sent: the rules then see the user, as the firmware asked by signing in.
  const db = new Database({ databaseUrl: config.databaseUrl, http, clock: platform.clock, auth, emulatorHost: config.databaseEmulatorHost, databaseSecret: config.databaseSecret });
  return { http, auth, db };
}

/** Resumes the session saved by an earlier boot; a dead saved token falls back to signing in when that is possible. */
async function restored(auth: FirebaseAuth, canSignIn: boolean): Promise<boolean> {
  if (!auth.restore()) return false;
  try {
    await auth.getIdToken();
    return true;
  } catch (error) {
    if (canSignIn && error instanceof FirebaseAuthError && error.permanent) return false;
    throw error;
  }
}
