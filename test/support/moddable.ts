import { findModdable, type ModdableSdk } from "../../host-tools/moddable/sdk.ts";

/**
 * The Moddable SDK the device tests run against ($MODDABLE, or esplab's cache filled by `esplab moddable setup`).
 * Without it those tests skip; test/support/notices.ts says so once per run.
 */
export const moddable: ModdableSdk | undefined = findModdable();
