import { EsplabError } from "../../../firmware/core/errors.ts";

/** An ESP32 app or bootloader image is malformed (code names the problem: "truncated", "bad-magic", …). */
export class ImageError extends EsplabError {}

/** A partition table is malformed or inconsistent. */
export class PartitionTableError extends EsplabError {}
