import type { ConnectTarget } from "../../ports/transport.ts";
import { MqttUsageError } from "./errors.ts";

/** mqtt://host[:1883] or mqtts://host[:8883] as a connection target (TLS with the host as server name for mqtts). */
export function brokerTarget(url: string, timeoutMs = 10_000): ConnectTarget {
  const match = /^(mqtts?):\/\/([^/:]+)(?::(\d{1,5}))?\/?$/.exec(url);
  if (!match) throw new MqttUsageError("BAD_URL", `${JSON.stringify(url)} is not a broker URL; write mqtt://host:1883 or mqtts://host:8883`);
  const secure = match[1] === "mqtts";
  const host = match[2]!;
  return { host, port: Number(match[3] ?? (secure ? 8883 : 1883)), ...(secure ? { tls: { serverName: host } } : {}), timeoutMs };
}
