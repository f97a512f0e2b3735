import type { Platform } from "../../ports/index.ts";
export const platform: Platform | undefined = undefined;
