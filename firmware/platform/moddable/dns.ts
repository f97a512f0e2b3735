import UDP from "embedded:io/socket/udp";
import Resolver from "embedded:network/dns/resolver/udp";
import Net from "net";
import type { DnsSettings } from "./transport.ts";

/** Used only when Wi-Fi's DHCP gave no DNS server. */
const FALLBACK_SERVERS: readonly string[] = Object.freeze(["8.8.8.8", "1.1.1.1"]);

/**
 * DNS for the transport: Moddable's UDP resolver (the ESP32's builtin provider has no `network.dns`), asking the
 * given servers — on the device, those Wi-Fi got by DHCP, read at each lookup since a reconnect may change them.
 */
export function moddableDns(servers: () => string[] = wifiDnsServers): DnsSettings {
  return { Resolver: Resolver as unknown as DnsSettings["Resolver"], UDP, servers };
}

export function wifiDnsServers(): string[] {
  const servers = Net.get("DNS").filter((server) => server && server !== "0.0.0.0");
  return servers.length ? servers : FALLBACK_SERVERS.slice();
}
