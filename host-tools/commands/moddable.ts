import { parseArgs } from "node:util";
import { UsageError } from "../../firmware/core/errors.ts";
import { cacheRoot, findModdable, MODDABLE_VERSION, moddableProblem, setupModdable } from "../moddable/sdk.ts";
import { espIdfStatus } from "../moddable/esp-idf.ts";

const USAGE = `usage: esplab moddable setup --sdk moddable-sdk-${MODDABLE_VERSION}.tar.xz
       esplab moddable doctor

setup   builds the Moddable SDK's command-line tools (xsc, xsl, mcconfig, mcrez…) from a source archive into
        esplab's cache (${cacheRoot()}/moddable; ESPLAB_CACHE moves it). A second run with the same archive
        reuses the build. Needs gcc, make, pkgconf and libglib2.0-dev. With $MODDABLE set, esplab uses that
        install instead and needs no setup.
doctor  says which Moddable SDK and ESP-IDF esplab would use, and what is missing for a device build.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { sdk: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  const [action] = positionals;
  if (values.help || !action) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (action === "setup") {
    if (!values.sdk) throw new UsageError("USAGE", `setup needs the SDK source archive: --sdk moddable-sdk-${MODDABLE_VERSION}.tar.xz`);
    const started = performance.now();
    const sdk = await setupModdable({ archive: values.sdk, log: (line) => console.log(line) });
    console.log(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s — export MODDABLE=${sdk.root} to use it outside esplab`);
    return 0;
  }
  if (action === "doctor") return doctor();
  throw new UsageError("USAGE", `unknown action "${action}": use setup or doctor`);
}

function doctor(): number {
  const sdk = findModdable();
  console.log(sdk ? `Moddable SDK ${sdk.version}  ${sdk.root}  (${sdk.source === "MODDABLE" ? "$MODDABLE" : "esplab's cache"})` : `Moddable SDK: missing — ${moddableProblem()}`);
  if (sdk && sdk.version !== MODDABLE_VERSION) console.log(`  esplab is tested with ${MODDABLE_VERSION}; this is ${sdk.version}`);
  const idf = espIdfStatus(sdk);
  console.log(idf.problem ? `ESP-IDF: ${idf.problem}` : `ESP-IDF ${idf.found}  ${idf.path}`);
  return sdk && !idf.problem ? 0 : 1;
}
