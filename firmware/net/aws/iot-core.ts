/**
 * The AWS IoT Core profile for the MQTT client: mutual TLS with the device certificate and key and the Amazon root
 * CA, on 8883 or on 443 with ALPN `x-amzn-mqtt-ca`, SNI set to the endpoint, client id = thing name (IoT policies
 * name it; a second connection with the same id disconnects the first), and AWS's limits enforced before anything
 * is sent: QoS ≤ 1, payload ≤ 128 KB, ≤ 8 filters per SUBSCRIBE, ≤ 7 slashes per topic, keepalive 30–1200 s.
 */
import { MqttUsageError } from "../mqtt/errors.ts";
import { MqttClient, type MqttClientOptions, type MqttLimits } from "../mqtt/client.ts";
import type { Clock } from "../../ports/clock.ts";
import type { Storage } from "../../ports/storage.ts";
import type { ConnectTarget, Transport } from "../../ports/transport.ts";

export const AWS_IOT_LIMITS: Readonly<Required<MqttLimits>> = Object.freeze({
  maxQos: 1,
  maxPayloadBytes: 128 * 1024,
  maxFiltersPerSubscribe: 8,
  maxTopicSlashes: 7,
  profile: "AWS IoT Core",
});

/** ALPN protocol name that lets MQTT with X.509 client certificates use port 443. */
export const AWS_MQTT_ALPN = "x-amzn-mqtt-ca";

export interface AwsIotOptions {
  /** The account's device data endpoint, e.g. `a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com`. */
  endpoint: string;
  /** The thing name; used as the MQTT client id. */
  thingName: string;
  /** PEM device certificate, its private key, and the Amazon root CA (AmazonRootCA1.pem). */
  certificate: string;
  privateKey: string;
  rootCa: string;
  /**
   * 8883 (default) or 443 (ALPN x-amzn-mqtt-ca, for networks that only let HTTPS out) at AWS; a local
   * `esplab iot` may listen on another port.
   */
  port?: number;
  keepAliveSeconds?: number;
  cleanSession?: boolean;
  will?: MqttClientOptions["will"];
  timeoutMs?: number;
}

/** Connection target (TLS settings included) for AWS IoT Core; throws MqttUsageError naming a bad setting. */
export function awsIotTarget(options: AwsIotOptions): ConnectTarget {
  const { endpoint, port = 8883 } = options;
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(endpoint ?? "")) {
    throw new MqttUsageError("BAD_ENDPOINT", `AWS IoT endpoint ${JSON.stringify(endpoint)} is not a host name; copy it from "aws iot describe-endpoint --endpoint-type iot:Data-ATS"`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535 || port === 1883) {
    throw new MqttUsageError("BAD_PORT", `AWS IoT Core takes MQTT over TLS on port 8883, or 443 with ALPN; port ${String(port)} will not work`);
  }
  for (const [name, pem, label] of [
    ["certificate", options.certificate, "CERTIFICATE"],
    ["privateKey", options.privateKey, "PRIVATE KEY"],
    ["rootCa", options.rootCa, "CERTIFICATE"],
  ] as const) {
    if (typeof pem !== "string" || !pem.includes("-----BEGIN ") || !pem.includes(label)) {
      throw new MqttUsageError(
        "BAD_CREDENTIALS",
        `${name} must be a PEM ${label.toLowerCase()} ("-----BEGIN … ${label}-----"); ${name === "rootCa" ? "download AmazonRootCA1.pem from https://www.amazontrust.com/repository/" : "use the files AWS IoT created with the thing's certificate"}`,
      );
    }
  }
  return {
    host: endpoint,
    port,
    timeoutMs: options.timeoutMs ?? 15_000,
    tls: {
      // SNI carries host names only (RFC 6066); a local endpoint given as an address goes without
      ...(isAddress(endpoint) ? {} : { serverName: endpoint }),
      ca: [options.rootCa],
      certificate: options.certificate,
      key: options.privateKey,
      ...(port === 443 ? { alpn: [AWS_MQTT_ALPN] } : {}),
    },
  };
}

function isAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

export function checkThingName(thingName: string): void {
  if (typeof thingName !== "string" || !/^[a-zA-Z0-9:_-]{1,128}$/.test(thingName)) {
    throw new MqttUsageError("BAD_THING_NAME", `thing name ${JSON.stringify(thingName)} must be 1–128 characters of a-z, A-Z, 0-9, ':', '_' and '-' (AWS IoT's rule)`);
  }
}

/** Client options for AWS IoT Core; spread more options (storage, queue size, reconnect) over the result. */
export function awsIotClientOptions(options: AwsIotOptions, platform: { transport: Transport; clock: Clock; storage?: Storage }): MqttClientOptions {
  checkThingName(options.thingName);
  const keepAlive = options.keepAliveSeconds ?? 60;
  if (!Number.isInteger(keepAlive) || keepAlive < 30 || keepAlive > 1200) {
    throw new MqttUsageError("BAD_KEEPALIVE", `AWS IoT Core accepts keepalive 30–1200 s; got ${keepAlive}`);
  }
  return {
    transport: platform.transport,
    clock: platform.clock,
    ...(platform.storage ? { storage: platform.storage } : {}),
    target: awsIotTarget(options),
    clientId: options.thingName,
    cleanSession: options.cleanSession ?? true,
    keepAliveSeconds: keepAlive,
    ...(options.will ? { will: options.will } : {}),
    // AWS IoT allows 100 unacknowledged QoS 1 publishes per connection; stay well below it
    maxInflight: 10,
    limits: AWS_IOT_LIMITS,
  };
}

export function createAwsIotClient(options: AwsIotOptions, platform: { transport: Transport; clock: Clock; storage?: Storage }, extra: Partial<MqttClientOptions> = {}): MqttClient {
  return new MqttClient({ ...awsIotClientOptions(options, platform), ...extra, limits: AWS_IOT_LIMITS });
}
