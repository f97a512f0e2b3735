/**
 * A local AWS IoT Core: the broker (aedes) behind mutual TLS on 8883 and on an ALPN `x-amzn-mqtt-ca` port (443 at
 * AWS), admitting only certificates this data directory's CA issued and its registry lists as ACTIVE; each thing's
 * policies decide what it may connect as, publish, subscribe to and receive; the Device Shadow and Jobs services
 * answer on AWS's reserved topics. A refused device is logged with the reason and its socket closed before any MQTT
 * byte is read, so it never reaches the broker.
 */
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { Aedes, type Client } from "aedes";
import { AWS_MQTT_ALPN } from "../../../firmware/net/aws/iot-core.ts";
import { DurableSessions } from "../mqtt/durable-sessions.ts";
import type { BrokerMessage } from "../mqtt/broker.ts";
import { JobsService } from "./jobs-service.ts";
import { issueServerCertificate } from "./pki.ts";
import { isAllowed, type IotAction, type PolicyDocument } from "./policy.ts";
import { IotRegistry, LOCAL_REGION, type CertificateRecord, type IotRegion } from "./registry.ts";
import { RulesEngine, type ReadingsSink, type RuleDefinition } from "./rules/rules-engine.ts";
import { ShadowService } from "./shadow-service.ts";

export interface IotCoreOptions {
  /** The registry, CA, shadows, jobs and sessions live here. */
  dataDir: string;
  /** 127.0.0.1 by default; 0.0.0.0 lets boards on the network connect. */
  host?: string;
  /** Mutual TLS (8883 by default; 0 = a free port). */
  port?: number;
  /** Mutual TLS with ALPN x-amzn-mqtt-ca required (AWS's 443); not opened when undefined. */
  alpnPort?: number;
  /** Extra names and addresses for the server certificate besides localhost, this machine's name and addresses. */
  serverNames?: string[];
  region?: IotRegion;
  /** Topic rules (AWS IoT SQL and actions); their readings actions open stores with openStore. */
  rules?: RuleDefinition[];
  openStore?: (db: string) => ReadingsSink | Promise<ReadingsSink>;
  now?: () => number;
  log?: (line: string) => void;
}

export interface IotCore {
  registry: IotRegistry;
  shadows: ShadowService;
  jobs: JobsService;
  rules: RulesEngine | undefined;
  port: number;
  alpnPort: number | undefined;
  /** The device data endpoint to give devices (aws_endpoint). */
  endpoint: string;
  /** The CA devices trust for this endpoint (aws_root_ca). */
  rootCaPem: string;
  onPublish(listener: (message: BrokerMessage & { payloadBytes: Buffer }) => void): () => void;
  publish(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

interface Identity {
  certificate: CertificateRecord;
  policies: PolicyDocument[];
}

export async function startIotCore(options: IotCoreOptions): Promise<IotCore> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => undefined);
  const region = options.region ?? LOCAL_REGION;
  const registry = await IotRegistry.open(options.dataDir);
  const sessions = new DurableSessions(options.dataDir);
  const broker = await Aedes.createBroker({ persistence: sessions });
  const identities = new WeakMap<object, Identity>();
  const identityOf = (client: Client) => identities.get(client.conn as object);
  const allowed = (client: Client, action: IotAction, resource: string) => {
    const identity = identityOf(client);
    if (!identity) return false;
    // a certificate made inactive or revoked while connected loses its rights at once
    const current = registry.certificateById(identity.certificate.certificateId);
    if (current?.status !== "ACTIVE") return false;
    return isAllowed(registry.policiesOf(current), action, resource, { ...region, clientId: client.id, thingName: current.thingName });
  };

  broker.preConnect = (client, packet, callback) => {
    const clientId = packet.clientId ?? "";
    if (allowed(client, "iot:Connect", clientId)) return callback(null, true);
    log(`iot: refused CONNECT from ${identityOf(client)?.certificate.thingName ?? "?"} as client id "${clientId}": its policy does not allow iot:Connect on client/${clientId} (the client id must be the thing name)`);
    callback(new Error("not authorised"), false);
  };
  broker.authorizePublish = (client, packet, callback) => {
    if (!client) return callback(null);
    if (packet.topic.startsWith("$SYS")) return callback(new Error("reserved topic"));
    if (allowed(client, "iot:Publish", packet.topic)) return callback(null);
    log(`iot: ${client.id} may not publish to ${packet.topic} (no iot:Publish on topic/${packet.topic}); disconnected, as AWS does`);
    callback(new Error("not authorised"));
  };
  broker.authorizeSubscribe = (client, subscription, callback) => {
    if (allowed(client, "iot:Subscribe", subscription.topic)) return callback(null, subscription);
    log(`iot: ${client.id} may not subscribe to ${subscription.topic} (no iot:Subscribe on topicfilter/${subscription.topic}); SUBACK failure`);
    callback(null, null);
  };
  broker.authorizeForward = (client, packet) => (allowed(client, "iot:Receive", packet.topic) ? packet : null);

  const listeners = new Set<(message: BrokerMessage & { payloadBytes: Buffer }) => void>();
  broker.on("client", (client) => log(`iot: ${client.id} connected`));
  broker.on("clientDisconnect", (client) => log(`iot: ${client.id} disconnected`));
  broker.on("publish", (packet, client) => {
    if (packet.topic.startsWith("$SYS")) return;
    const payloadBytes = Buffer.from(packet.payload);
    const message = { atMs: Date.now(), topic: packet.topic, payload: payloadBytes.toString("utf8"), payloadBytes, qos: packet.qos, retain: packet.retain, client: client?.id };
    for (const listener of listeners) listener(message);
  });

  const rules = options.rules?.length
    ? new RulesEngine({
        rules: options.rules,
        publish: (topic, payload, qos) => publish(topic, payload, { qos }),
        openStore: options.openStore ?? ((db) => Promise.reject(new Error(`no readings store can be opened here for ${db}`))),
        log,
      })
    : undefined;
  if (rules) {
    listeners.add((message) => rules.onPublish({ topic: message.topic, payload: message.payloadBytes, clientId: message.client, receivedAt: message.atMs }));
  }
  const publish = (topic: string, payload: string | Buffer, publishOptions: { qos?: 0 | 1; retain?: boolean } = {}) =>
    new Promise<void>((resolve, reject) =>
      broker.publish(
        { cmd: "publish", topic, payload: Buffer.from(payload), qos: publishOptions.qos ?? 1, retain: publishOptions.retain ?? false, dup: false },
        (error) => (error ? reject(error) : resolve()),
      ),
    );

  const shadows = new ShadowService(broker, { now: options.now, file: path.join(options.dataDir, "shadows.json"), log });
  const jobs = new JobsService(broker, { now: options.now, dir: options.dataDir, log });

  const names = serverNames(host, options.serverNames ?? []);
  const serverCertificate = await issueServerCertificate(registry.ca, names);
  const secure = { cert: `${serverCertificate.certificatePem}${registry.ca.certificatePem}`, key: serverCertificate.privateKeyPem, ca: [registry.ca.certificatePem] };
  const sockets = new Set<net.Socket>();

  /** Who a TLS peer is, or why it is refused. */
  const admit = (socket: tls.TLSSocket, requireAlpn: boolean): Identity | string => {
    if (requireAlpn && socket.alpnProtocol !== AWS_MQTT_ALPN) return `it did not ask for ALPN ${AWS_MQTT_ALPN}, which MQTT with a certificate needs on this port`;
    const peer = socket.getPeerCertificate();
    if (!peer || !peer.raw) return "it sent no client certificate (give the device the certificate and key from esplab iot create-thing)";
    if (!socket.authorized) return `its certificate is not signed by this IoT Core's CA (${socket.authorizationError}); use the one esplab iot create-thing made with ${path.join(options.dataDir, "ca.pem")}`;
    const certificate = registry.certificate(peer.raw);
    if (!certificate) return `its certificate (issued to ${peer.subject?.OU ?? peer.subject?.CN ?? "?"}) is not registered here any more; make the thing again with esplab iot create-thing`;
    if (certificate.status !== "ACTIVE") return `the certificate of ${certificate.thingName} is ${certificate.status}${certificate.status === "INACTIVE" ? "; activate it with esplab iot activate " + certificate.thingName : ""}`;
    return { certificate, policies: registry.policiesOf(certificate) };
  };

  const listen = async (port: number, requireAlpn: boolean): Promise<{ server: tls.Server; port: number }> => {
    const server = tls.createServer({ ...secure, requestCert: true, rejectUnauthorized: false, ...(requireAlpn ? { ALPNProtocols: [AWS_MQTT_ALPN] } : {}) }, (socket) => {
      const identity = admit(socket, requireAlpn);
      if (typeof identity === "string") {
        log(`iot: refused a TLS connection from ${socket.remoteAddress}: ${identity}`);
        socket.destroy();
        return;
      }
      identities.set(socket, identity);
      broker.handle(socket);
    });
    server.on("tlsClientError", (error, socket) => log(`iot: TLS handshake with ${socket.remoteAddress ?? "?"} failed: ${error.message.split("\n")[0]}`));
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    const bound = await new Promise<number>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "EADDRINUSE"
            ? new Error(`port ${port} on ${host} is in use (another esplab iot or broker?): stop it or choose another port`)
            : error.code === "EACCES"
              ? new Error(`port ${port} needs administrator rights on this system: choose a port above 1023 (e.g. --alpn-port 8443)`)
              : error,
        ),
      );
      server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
    });
    return { server, port: bound };
  };

  const servers: tls.Server[] = [];
  const closeAll = async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    shadows.close();
    jobs.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await sessions.destroy();
  };
  let mqtts: { server: tls.Server; port: number };
  let alpn: { server: tls.Server; port: number } | undefined;
  try {
    mqtts = await listen(options.port ?? 8883, false);
    servers.push(mqtts.server);
    if (options.alpnPort !== undefined) {
      alpn = await listen(options.alpnPort, true);
      servers.push(alpn.server);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  return {
    registry,
    shadows,
    jobs,
    port: mqtts.port,
    alpnPort: alpn?.port,
    endpoint: host === "0.0.0.0" || host === "::" ? (names.ips.find((ip) => ip !== "127.0.0.1" && ip !== "::1") ?? "127.0.0.1") : host,
    rootCaPem: registry.ca.certificatePem,
    onPublish(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    rules,
    publish,
    close: closeAll,
  };
}

/** localhost, this machine's name and its addresses (boards on the network connect to one of them), and the host. */
function serverNames(host: string, extra: string[]): { dns: string[]; ips: string[] } {
  const ips = new Set(["127.0.0.1", "::1"]);
  const dns = new Set(["localhost", os.hostname()]);
  for (const addresses of Object.values(os.networkInterfaces())) for (const address of addresses ?? []) ips.add(address.address.split("%")[0]!);
  for (const name of [host, ...extra]) (net.isIP(name) ? ips : dns).add(name);
  ips.delete("0.0.0.0");
  ips.delete("::");
  return { dns: [...dns], ips: [...ips] };
}
