import { UsageError } from "../core/errors.ts";
import { createAwsIotClient } from "../net/aws/iot-core.ts";
import { brokerTarget } from "../net/mqtt/broker-url.ts";
import { MqttClient, type MqttClientOptions } from "../net/mqtt/client.ts";
import type { Platform } from "../ports/index.ts";
import { setting, type FirmwareConfig } from "./config.ts";

/**
 * An MQTT client for the device, from its configuration: a broker URL (`mqtt_url` = mqtt://host:port or
 * mqtts://host:port, optional `mqtt_username`/`mqtt_password`), or AWS IoT Core when `mqtt_profile` is "aws"
 * (`aws_endpoint`, `aws_certificate`, `aws_private_key`, `aws_root_ca`, optional `aws_port` 8883 or 443 — or the port of a
 * local `esplab iot`; the thing name is the device id).
 */
export function openMqtt(platform: Platform, config: FirmwareConfig, extra: Partial<MqttClientOptions>): MqttClient {
  const common = { storage: platform.storage, cleanSession: false, ...extra };
  if (setting(config, "mqtt_profile") === "aws") {
    return createAwsIotClient(
      {
        endpoint: required(config, "aws_endpoint"),
        thingName: config.deviceId,
        certificate: required(config, "aws_certificate"),
        privateKey: required(config, "aws_private_key"),
        rootCa: required(config, "aws_root_ca"),
        ...awsPort(config),
        cleanSession: false,
        will: extra.will,
      },
      platform,
      common,
    );
  }
  return new MqttClient({
    transport: platform.transport,
    clock: platform.clock,
    target: brokerTarget(required(config, "mqtt_url")),
    clientId: config.deviceId,
    username: setting(config, "mqtt_username"),
    password: setting(config, "mqtt_password"),
    ...common,
  });
}

function awsPort(config: FirmwareConfig): { port?: number } {
  const text = setting(config, "aws_port");
  if (text === undefined) return {};
  const port = Number(text);
  if (!Number.isInteger(port)) throw new UsageError("CONFIG", `aws_port must be a port number (8883, or 443 with ALPN), got "${text}"`);
  return { port };
}

function required(config: FirmwareConfig, key: string): string {
  const value = setting(config, key);
  if (value === undefined) throw new UsageError("CONFIG", `${key} is not set; the telemetry app needs it (see esplab.config.example.json)`);
  return value;
}
