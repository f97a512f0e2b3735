import device from "embedded:provider/builtin";
import type { IOClasses } from "../../ports/io.ts";

/** The IO seam on Moddable: the host's own ECMA-419 classes. */
export const moddableIO = device.io as unknown as IOClasses;
