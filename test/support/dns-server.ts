import dgram from "node:dgram";

export interface DnsServer {
  /** Every name asked for, in order. */
  queries: string[];
  close(): Promise<void>;
}

/**
 * A tiny authoritative DNS server over UDP: A records for the given names, NXDOMAIN for every other name. Enough for
 * a resolver under test (Moddable's asks one A question per packet).
 */
export async function startDnsServer(options: { host: string; port: number; records: Record<string, string> }): Promise<DnsServer> {
  const socket = dgram.createSocket("udp4");
  const queries: string[] = [];
  socket.on("message", (packet, peer) => {
    if (packet.length < 12) return;
    let at = 12;
    const labels: string[] = [];
    while (at < packet.length && packet[at] !== 0) {
      const length = packet[at]!;
      labels.push(packet.subarray(at + 1, at + 1 + length).toString("latin1"));
      at += 1 + length;
    }
    const questionEnd = at + 5;
    if (questionEnd > packet.length) return;
    const name = labels.join(".").toLowerCase();
    const type = packet.readUInt16BE(at + 1);
    queries.push(name);
    const address = type === 1 ? options.records[name] : undefined;
    const known = name in options.records;
    const header = Buffer.alloc(12);
    packet.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8400 | (packet.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(address ? 1 : 0, 6);
    const question = packet.subarray(12, questionEnd);
    const answer = address
      ? Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(address.split(".").map(Number))])
      : Buffer.alloc(0);
    socket.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port, options.host, () => resolve());
  });
  return { queries, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}
