export * from "./errors.ts";
export * from "./packets.ts";
export { encodePacket } from "./encode.ts";
export { MqttDecoder, DEFAULT_MAX_PACKET_SIZE, type DecoderOptions } from "./decoder.ts";
export { topicNameProblem, topicFilterProblem, topicMatches, slashCount } from "./topics.ts";
export { stringProblem } from "./strings.ts";
