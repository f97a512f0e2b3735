export * from "./errors.ts";
export * from "./packets.ts";
export { encodePacket } from "./encode.ts";
export { MqttDecoder, DEFAULT_MAX_PACKET_SIZE, type DecoderOptions } from "./decoder.ts";
export { topicNameProblem, topicFilterProblem, topicMatches, slashCount } from "./topics.ts";
export { stringProblem } from "./strings.ts";
export { MqttClient, type MqttClientOptions, type MqttClientEvents, type MqttClientState, type MqttMessage, type MessageHandler, type MqttLimits, type SubscribeResult } from "./client.ts";
export { MqttQueueFullError, OUTBOX_MAX_RECORD, OUTBOX_RECORD_HEADER } from "./outbox.ts";
export { explainConnack } from "./connack.ts";
