import { UsageError } from "../../core/errors.ts";
import { parseUrl } from "../http/url.ts";

/** Where a database's REST endpoints live. */
export interface DatabaseLocation {
  /** `scheme://host[:port]` requests go to. */
  base: string;
  /** The database name (the `ns`); first label of the host for hosted databases. */
  namespace: string;
  /** Whether `?ns=` must be sent (emulators, and any host that is not the database's own). */
  sendNamespace: boolean;
}

/**
 * Reads a database URL: `https://<db>.firebaseio.com`, `https://<db>.<region>.firebasedatabase.app`, or an emulator's
 * `http://127.0.0.1:9000?ns=<db>`. An `emulatorHost` (`host:port`, what FIREBASE_DATABASE_EMULATOR_HOST holds) sends
 * everything there instead, with the namespace taken from the URL, as the official SDKs do.
 */
export function parseDatabaseUrl(databaseUrl: string, emulatorHost?: string): DatabaseLocation {
  const url = parseUrl(databaseUrl);
  const query = url.target.includes("?") ? url.target.slice(url.target.indexOf("?") + 1) : "";
  const path = url.target.replace(/\?.*$/, "");
  if (path !== "/" && path !== "") {
    throw new UsageError("BAD_DATABASE_URL", `the database URL "${databaseUrl}" has a path (${path}); give only the database's root, e.g. https://my-db.firebaseio.com`);
  }
  let namespace: string | undefined;
  for (const pair of query.split("&")) {
    const [name, value] = pair.split("=");
    if (name === "ns" && value) namespace = decodeURIComponent(value);
  }
  const hosted = /^([a-z0-9-]+)\.(firebaseio\.com|[a-z0-9-]+\.firebasedatabase\.app|firebaseio-demo\.com)$/.exec(url.host);
  namespace ??= hosted?.[1];
  if (!namespace) {
    throw new UsageError(
      "BAD_DATABASE_URL",
      `cannot tell the database name in "${databaseUrl}": use https://<name>.firebaseio.com, https://<name>.<region>.firebasedatabase.app, or add ?ns=<name> for an emulator`,
    );
  }
  if (emulatorHost) {
    const hostPort = emulatorHost.replace(/^https?:\/\//, "").replace(/\/+$/, "");
    if (!/^[^/:]+(:\d+)?$/.test(hostPort) && !/^\[[^\]]+\](:\d+)?$/.test(hostPort)) {
      throw new UsageError("BAD_EMULATOR_HOST", `database emulator host "${emulatorHost}" should look like 127.0.0.1:9000`);
    }
    return { base: `http://${hostPort}`, namespace, sendNamespace: true };
  }
  return { base: `${url.scheme}://${url.hostHeader}`, namespace, sendNamespace: !hosted };
}
