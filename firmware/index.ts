/**
 * esplab's firmware library, as a student's app imports it: `import { registerApp, openDevices } from "esplab/firmware"`.
 * Everything here runs unchanged on the ESP32, on the virtual board in Node and inside the XS engine, because it
 * reaches the hardware, the network, time and storage only through the Platform it is given. Unused exports cost
 * nothing on the device: the bundler keeps only what an app uses. Guide: docs/write-your-own-app.md.
 */

// Apps: what a project registers and how the firmware starts one.
export { registerApp, startFirmware, appNames, type App, type AppFactory } from "./apps/index.ts";
export { readConfig, setting, ConfigError, DEFAULTS, type FirmwareConfig, type FlatConfig, type Wiring } from "./apps/config.ts";

// The seams every app is given (platform.io, .clock, .transport, .storage, .log).
export type { Platform } from "./ports/index.ts";
export { sleep, type Clock, type TimerHandle } from "./ports/clock.ts";
export type { Log } from "./ports/log.ts";
export type { Storage, StorageValue } from "./ports/storage.ts";
export type { Connection, ConnectionHandlers, ConnectTarget, TlsOptions, Transport } from "./ports/transport.ts";
export type * from "./ports/io.ts";

// The course's parts: all at once on the configured pins, or one driver at a time.
export { openDevices } from "./apps/board-devices.ts";
export { describeReading, showLines, type AngleOutput, type Devices, type KeyEvents, type RangeReading, type RangeSensor, type TextDisplay } from "./apps/devices.ts";
export { LCD, characterCode, type LCDOptions } from "./drivers/lcd.ts";
export { Keypad, type KeyEventType, type KeyListener, type KeypadOptions } from "./drivers/keypad.ts";
export { Servo, type ServoOptions } from "./drivers/servo.ts";
export { IrObstacle, type IrObstacleOptions } from "./drivers/ir-obstacle.ts";
export { IrDistance, centimetres, type DistanceReading, type IrDistanceOptions } from "./drivers/ir-distance.ts";
export { PasswordEntry, type PasswordEntryOptions } from "./ui/password-entry.ts";
export { angleForReading, NEAR_CM, FAR_CM } from "./apps/servo-mapping.ts";

// Firebase: sign-in the way the configuration says, the Realtime Database over REST, queries and streams.
export { openFirebase, signInMode, type PasswordSource } from "./apps/cloud-session.ts";
export { SignedInApp } from "./apps/signed-in-app.ts";
export { connectFirebase, firebaseConfigFrom, type FirebaseConfig, type FirebaseConnection } from "./net/firebase/connect.ts";
export { FirebaseAuth, type AuthUser, type FirebaseAuthOptions } from "./net/firebase/auth.ts";
export { FirebaseAuthError } from "./net/firebase/auth-errors.ts";
export { ServiceAccountCredential, DATABASE_SCOPES, GOOGLE_TOKEN_URI, type ServiceAccountKey, type ServiceAccountOptions } from "./net/firebase/service-account.ts";
export { ServiceAccountError } from "./net/firebase/service-account-errors.ts";
export { KeyFormatError } from "./crypto/der.ts";
export { Database, DatabaseError, type Conditional, type DatabaseOptions, type WriteOptions } from "./net/firebase/rtdb.ts";
export { query, Query } from "./net/firebase/query.ts";
export { RtdbStream, StreamCancelledError, StreamEventError, type Change, type StreamHandlers, type StreamOptions, type StreamStatus } from "./net/firebase/stream.ts";
export { serverTimestamp, increment } from "./net/firebase/values.ts";

// MQTT: any broker, or AWS IoT Core with X.509 and device shadows.
export { openMqtt } from "./apps/mqtt-session.ts";
export * from "./net/mqtt/index.ts";
export * from "./net/aws/index.ts";

// Errors and small tools every app may need.
export { EsplabError, ProtocolError, TimeoutError, TransportError, UsageError } from "./core/errors.ts";
export { Backoff, type BackoffOptions } from "./core/backoff.ts";
export { utf8Decode, utf8Encode } from "./core/utf8.ts";
