import type { EsplabError } from "../core/errors.ts";
import { utf8Decode } from "../core/utf8.ts";
import { DeviceJobs, type JobExecution, type JobOutcome } from "../net/aws/jobs.ts";
import { DeviceShadow } from "../net/aws/shadow.ts";
import type { MqttClient, MqttMessage } from "../net/mqtt/client.ts";
import type { Platform, TimerHandle } from "../ports/index.ts";
import { openDevices } from "./board-devices.ts";
import { setting, type FirmwareConfig } from "./config.ts";
import { showLines, type Devices, type RangeReading } from "./devices.ts";
import { registerApp, type App } from "./index.ts";
import { openMqtt } from "./mqtt-session.ts";
import { lcdLinesFor, parseServoCommand } from "./telemetry-commands.ts";

const SEQ_DOMAIN = "telemetry";
const SEQ_KEY = "seq";

/** The JSON a reading is published as: the course's {"temp":22} shape with the sensor's fields, a time and a number. */
export function readingPayload(reading: RangeReading, seq: number, epochMs: number | undefined, uptimeMs: number): string {
  const fields = reading.cm === undefined ? { obstacle: reading.obstacle } : { distance_cm: Math.round(reading.cm * 10) / 10, obstacle: reading.obstacle };
  return JSON.stringify({ ...fields, seq, ts: epochMs === undefined ? null : Math.round(epochMs), uptime_ms: Math.round(uptimeMs) });
}

/**
 * MQTT telemetry and commands: readings to `sensor/<id>` (QoS 1, kept in Storage until the broker has them, numbered
 * with a sequence that survives reboots), `cmd/<id>/servo` and `cmd/<id>/lcd` obeyed (refusals explained on
 * `status/<id>/error`), `status/<id>` retained "online", and "offline" through the Last Will. With the AWS profile the
 * servo angle is also the device shadow's reported state, desired changes move it, and an AWS IoT job
 * `{"operation": "set-interval", "interval_ms": N}` changes how often readings go out.
 */
class Telemetry implements App {
  readonly #platform: Platform;
  readonly #devices: Devices;
  readonly #client: MqttClient;
  readonly #id: string;
  #timer: TimerHandle;
  readonly #shadow: DeviceShadow | undefined;
  readonly #jobs: DeviceJobs | undefined;
  #connection = "connecting";
  #lastEvent = "";
  #angle: number | undefined;
  #stopped = false;

  constructor(platform: Platform, config: FirmwareConfig) {
    this.#platform = platform;
    this.#id = config.deviceId;
    this.#devices = openDevices(platform, config.wiring);
    const status = `status/${this.#id}`;
    this.#client = openMqtt(platform, config, { will: { topic: status, payload: "offline", qos: 1, retain: true }, keepAliveSeconds: 30 });
    this.#show();

    this.#client.on("connected", ({ sessionPresent }) => {
      this.#connection = "online";
      platform.log(`mqtt: connected${sessionPresent ? " (session resumed)" : ""}`);
      this.#client.publish(status, "online", { qos: 1, retain: true }).catch((error: EsplabError) => platform.log(`mqtt: status not sent: ${error.message}`));
      this.#show();
    });
    this.#client.on("disconnected", ({ error, reconnectInMs }) => {
      this.#connection = reconnectInMs === undefined ? "offline" : `retry ${Math.ceil(reconnectInMs / 1000)}s`;
      platform.log(`mqtt: disconnected${error ? `: ${error.message}` : ""}`);
      this.#show();
    });
    this.#client.on("error", (error) => platform.log(`mqtt: ${error.message}`));

    const base = `cmd/${this.#id}`;
    this.#client
      .subscribeMany([
        { filter: `${base}/servo`, qos: 1, handler: (message) => this.#onServo(message) },
        { filter: `${base}/lcd`, qos: 1, handler: (message) => this.#onLcd(message) },
      ])
      .then((results) => results.filter((r) => r.error).forEach((r) => platform.log(`mqtt: ${r.error!.message}`)))
      .catch((error: EsplabError) => platform.log(`mqtt: subscribe failed: ${error.message}`));

    if (setting(config, "mqtt_profile") === "aws") {
      this.#shadow = new DeviceShadow({ client: this.#client, clock: platform.clock, thingName: this.#id });
      this.#shadow.onDelta((delta) => {
        const wanted = delta.state.servo;
        if (typeof wanted !== "number") return;
        const result = parseServoCommand(String(wanted));
        if (!result.ok) return this.#refuse("shadow servo", result.error);
        this.#moveServo(result.value, "shadow");
      });
      this.#shadow.start().catch((error: EsplabError) => platform.log(`shadow: ${error.message}`));
      this.#jobs = new DeviceJobs({ client: this.#client, clock: platform.clock, thingName: this.#id, handler: (job) => this.#runJob(job), log: platform.log });
      this.#jobs.start().catch((error: EsplabError) => platform.log(`jobs: ${error.message}`));
    }

    this.#client.connect().catch((error: EsplabError) => {
      if (this.#stopped) return; // a reset while connecting: the LCD is no longer this app's
      this.#connection = "refused";
      this.#lastEvent = error.message.slice(0, 16);
      platform.log(`mqtt: ${error.message}`);
      this.#show();
    });
    const interval = Number(setting(config, "telemetry_interval_ms") ?? 2000);
    this.#timer = platform.clock.setInterval(() => this.#publishReading(), Number.isFinite(interval) && interval >= 100 ? interval : 2000);
  }

  /** An AWS IoT job: `{"operation": "set-interval", "interval_ms": 5000}` changes how often readings go out. */
  #runJob(job: JobExecution): JobOutcome {
    const document = job.jobDocument ?? {};
    if (document.operation !== "set-interval") return { status: "REJECTED", statusDetails: { reason: `unknown operation ${JSON.stringify(document.operation ?? null)}; this app knows set-interval` } };
    const interval = document.interval_ms;
    if (typeof interval !== "number" || !Number.isInteger(interval) || interval < 100 || interval > 3_600_000) {
      return { status: "REJECTED", statusDetails: { reason: "interval_ms must be a whole number of milliseconds, 100 to 3600000" } };
    }
    this.#platform.clock.clear(this.#timer);
    this.#timer = this.#platform.clock.setInterval(() => this.#publishReading(), interval);
    this.#lastEvent = `every ${interval}ms`.slice(0, 16);
    this.#show();
    return { status: "SUCCEEDED", statusDetails: { interval_ms: String(interval) } };
  }

  #publishReading(): void {
    const reading = this.#devices.range.read();
    const seq = this.#nextSeq();
    const payload = readingPayload(reading, seq, this.#platform.clock.epochMs(), this.#platform.clock.now());
    this.#client.publish(`sensor/${this.#id}`, payload, { qos: 1 }).catch((error: EsplabError) => {
      // The queue refused it (full, or closed): this reading is dropped, and said so; queued ones are kept.
      if (!this.#stopped) this.#platform.log(`mqtt: reading ${seq} not queued: ${error.message}`);
    });
  }

  /** The next sequence number, stored before it is used so that a reboot never repeats one. */
  #nextSeq(): number {
    const stored = this.#platform.storage.get(SEQ_DOMAIN, SEQ_KEY);
    const seq = (typeof stored === "number" ? stored : 0) + 1;
    this.#platform.storage.set(SEQ_DOMAIN, SEQ_KEY, seq);
    return seq;
  }

  #onServo(message: MqttMessage): void {
    const result = parseServoCommand(utf8Decode(message.payload));
    if (!result.ok) return this.#refuse("servo", result.error);
    this.#moveServo(result.value, "command");
  }

  #moveServo(angle: number, source: string): void {
    this.#devices.servo.writeDegrees(angle);
    this.#angle = angle;
    this.#lastEvent = `servo ${Math.round(angle)}`;
    this.#platform.log(`${source}: servo ${angle}`);
    this.#show();
    this.#shadow?.updateReported({ servo: angle }).catch((error: EsplabError) => this.#platform.log(`shadow: ${error.message}`));
  }

  #onLcd(message: MqttMessage): void {
    const result = lcdLinesFor(utf8Decode(message.payload), this.#devices.display.columns);
    if (!result.ok) return this.#refuse("lcd", result.error);
    this.#platform.log(`command: lcd ${JSON.stringify(result.value.join("|"))}`);
    this.#lastEvent = "";
    showLines(this.#devices.display, ...result.value);
  }

  #refuse(command: string, error: string): void {
    this.#platform.log(`command ${command} refused: ${error}`);
    this.#lastEvent = `bad ${command} cmd`;
    this.#show();
    this.#client.publish(`status/${this.#id}/error`, JSON.stringify({ command, error }), { qos: 1 }).catch(() => undefined);
  }

  #show(): void {
    const angle = this.#angle === undefined ? "" : ` ${Math.round(this.#angle)}deg`;
    showLines(this.#devices.display, `MQTT ${this.#connection}`, this.#lastEvent || `${this.#id}${angle}`);
  }

  stop(): void {
    this.#stopped = true;
    this.#platform.clock.clear(this.#timer);
    this.#shadow?.close();
    this.#jobs?.close();
    this.#client.close();
    this.#devices.close();
  }
}

registerApp("telemetry", (platform, config) => new Telemetry(platform, config));
