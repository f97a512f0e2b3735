import { EsplabError } from "../../firmware/core/errors.ts";

/** A wiring or pin-use mistake, in the board description or in the firmware's use of the IO classes. */
export class WiringError extends EsplabError {}
