import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { AuthServer } from "./auth-server.ts";
import { DatabaseServer } from "./database-server.ts";
import { ServiceAccounts } from "./service-accounts.ts";
import type { CompactionOptions } from "./store.ts";
import { TokenAuthority } from "./tokens.ts";
import type { Clock } from "../../../firmware/ports/clock.ts";

export interface FirebaseEmulatorOptions {
  host?: string;
  /** 9000 by default, like Firebase's emulator; 0 picks a free port. */
  databasePort?: number;
  /** 9099 by default; 0 picks a free port. */
  authPort?: number;
  /** Durable storage; without it everything lives in memory. */
  dataDir?: string;
  /** ID-token lifetime (Firebase: 3600 s); short lifetimes let tests exercise refresh. */
  idTokenLifetimeSec?: number;
  /** Lifetime of a service account's access token (Google: 3600 s). */
  accessTokenLifetimeSec?: number;
  /** Initial rules, {"rules": {...}}; default open, as Firebase's emulator. */
  rules?: object;
  projectId?: string;
  enforceIndexes?: boolean;
  keepAliveMs?: number;
  now?: () => number;
  /**
   * The time the emulator keeps (a scenario's virtual clock): `now` (server timestamps, token lifetimes, push ids)
   * reads its epoch, and the streams' keep-alive tick runs on its timers. Without it, Date.now and Node's timers.
   */
  clock?: Clock;
  onWrite?: (namespace: string, paths: string[][]) => void;
  /** Browser origins allowed besides this computer's own pages (http://localhost:…, http://127.0.0.1:…); ["*"] for any. */
  corsOrigins?: string[];
  /** When the log is folded into a snapshot; pauseAt is for crash tests only (store.ts CompactionOptions). */
  compaction?: CompactionOptions;
  /** Legacy database secrets the database takes as the administrator (`?auth=<secret>`). */
  databaseSecrets?: string[];
}

export interface FirebaseEmulator {
  databaseUrl: string;
  authUrl: string;
  database: DatabaseServer;
  auth: AuthServer;
  /** Service accounts whose JWTs the token endpoint takes (`${authUrl}/token`); kept in the data directory. */
  serviceAccounts: ServiceAccounts;
  close(): Promise<void>;
}

/**
 * Esplab's local Firebase: the Realtime Database REST API with streaming and security rules, and the Auth REST API,
 * at the same paths and default ports as Firebase's emulator suite, so clients find it the same way
 * (FIREBASE_DATABASE_EMULATOR_HOST=127.0.0.1:9000, FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099).
 */
export async function startFirebaseEmulator(options: FirebaseEmulatorOptions = {}): Promise<FirebaseEmulator> {
  const host = options.host ?? "127.0.0.1";
  const clock = options.clock;
  // Whole milliseconds, as Date.now gives them: a virtual clock's time is fractional, Firebase's timestamps are not.
  const now = options.now ?? (clock ? () => Math.floor(clock.epochMs() ?? Date.now()) : Date.now);
  const tokens = new TokenAuthority(options.projectId ?? "demo-esplab", options.dataDir);
  const database = new DatabaseServer({ dataDir: options.dataDir, tokens, now, enforceIndexes: options.enforceIndexes, keepAliveMs: options.keepAliveMs, clock, onWrite: options.onWrite, corsOrigins: options.corsOrigins, compaction: options.compaction, databaseSecrets: options.databaseSecrets });
  const serviceAccounts = new ServiceAccounts(tokens.projectId, options.dataDir);
  const auth = new AuthServer({
    tokens,
    now,
    idTokenLifetimeSec: options.idTokenLifetimeSec ?? 3600,
    dataDir: options.dataDir,
    corsOrigins: options.corsOrigins,
    serviceAccounts,
    accessTokenLifetimeSec: options.accessTokenLifetimeSec,
  });
  if (options.rules) await database.store("default").commit({ rules: options.rules });
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(error.code === "EADDRINUSE" ? new Error(`port ${port} on ${host} is in use: stop what runs there or choose another port`) : error),
      );
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  const databasePort = await listen(database.server, options.databasePort ?? 9000);
  let authPort: number;
  try {
    authPort = await listen(auth.server, options.authPort ?? 9099);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    databaseUrl: `http://${host}:${databasePort}`,
    authUrl: `http://${host}:${authPort}`,
    database,
    auth,
    serviceAccounts,
    async close() {
      auth.close();
      await database.close();
      await Promise.all([database.server, auth.server].map((server) => new Promise((resolve) => (server.listening ? server.once("close", resolve) : resolve(undefined)))));
    },
  };
}
