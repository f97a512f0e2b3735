import fs from "node:fs";
import path from "node:path";
import type { FlatConfig } from "../../firmware/apps/config.ts";
import type { Clock } from "../../firmware/ports/clock.ts";
import { readingToAngleFunction } from "./functions.ts";
import { startFirebaseEmulator, type FirebaseEmulator } from "./firebase/index.ts";
import { startMqttBroker, type MqttBroker } from "./mqtt/broker.ts";
import { ReadingRejected, parseReadingMessage } from "./readings/reading-message.ts";
import { ReadingsStore } from "./readings/readings-store.ts";

export interface LocalCloud {
  firebase: FirebaseEmulator;
  mqtt: MqttBroker;
  /** Readings devices published on sensor/<id> through the broker. */
  readings: ReadingsStore;
  namespace: string;
  /** The lab's demo account: the keypad password the Assignment 2 app asks for. */
  demoUser: { email: string; password: string };
  /** Firmware settings that point a device at this cloud. */
  firmwareConfig: FlatConfig;
  close(): Promise<void>;
}

export const LAB_NAMESPACE = "esplab-lab";
/** Digits only: it is typed on the keypad. Local and throwaway: this account exists only in the local emulator. */
export const DEMO_USER = { email: "student@esplab.local", password: "123456" };

/**
 * The laptop's cloud: the Firebase emulator (RTDB + Auth, with Assignment 2's cloud function) and the MQTT broker.
 * Ports default to Firebase's emulator suite and MQTT's (9000, 9099, 1883); 0 picks free ones.
 */
export async function startLocalCloud(
  options: { databasePort?: number; authPort?: number; mqttPort?: number; dataDir?: string; log?: (line: string) => void; clock?: Clock; databaseSecrets?: string[] } = {},
): Promise<LocalCloud> {
  let firebase: FirebaseEmulator | undefined;
  const angleFunction = readingToAngleFunction(() => firebase!);
  firebase = await startFirebaseEmulator({
    databasePort: options.databasePort,
    authPort: options.authPort,
    dataDir: options.dataDir,
    onWrite: angleFunction,
    clock: options.clock,
    databaseSecrets: options.databaseSecrets,
  });
  let mqtt: MqttBroker;
  try {
    mqtt = await startMqttBroker({ port: options.mqttPort, dataDir: options.dataDir, log: options.log });
  } catch (error) {
    await firebase.close();
    throw error;
  }
  try {
    firebase.auth.createUser(DEMO_USER.email, DEMO_USER.password);
  } catch (error) {
    if ((error as Error).message !== "EMAIL_EXISTS") throw error; // already there from an earlier run (durable data directory)
  }
  // What devices publish on sensor/<id> is kept like `esplab readings subscribe` would, for the lab's chart.
  if (options.dataDir) fs.mkdirSync(options.dataDir, { recursive: true });
  const readings = new ReadingsStore(options.dataDir ? path.join(options.dataDir, "readings.sqlite") : ":memory:");
  mqtt.onPublish((message) => {
    if (!message.topic.startsWith("sensor/")) return;
    const payload = new TextEncoder().encode(message.payload);
    try {
      readings.insert(parseReadingMessage(message.topic, payload));
    } catch (error) {
      if (!(error instanceof ReadingRejected)) throw error;
      readings.reject(message.topic, payload, error.message);
    }
  });
  const authHost = firebase.authUrl.replace(/^http:\/\//, "");
  return {
    firebase,
    mqtt,
    readings,
    namespace: LAB_NAMESPACE,
    demoUser: DEMO_USER,
    firmwareConfig: {
      firebase_api_key: "local-emulator-key",
      firebase_database_url: `${firebase.databaseUrl}?ns=${LAB_NAMESPACE}`,
      firebase_auth_emulator_host: authHost,
      firebase_email: DEMO_USER.email,
      mqtt_url: mqtt.url,
    },
    async close() {
      await mqtt.close();
      readings.close();
      await firebase!.close();
    },
  };
}
