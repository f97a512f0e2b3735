import fs from "node:fs";
import path from "node:path";

/** XS slots are 16 bytes on the ESP32 (32-bit pointers); 32 on 64-bit Linux. */
export const ESP32_SLOT_BYTES = 16;

/** The manifest's `creation` as xsl compiled it into the image (xs.h's xsCreationRecord, in that order). */
export interface Creation {
  initialChunkSize: number;
  incrementalChunkSize: number;
  initialHeapCount: number;
  incrementalHeapCount: number;
  stackCount: number;
  initialKeyCount: number;
  incrementalKeyCount: number;
  nameModulo: number;
  symbolModulo: number;
  parserBufferSize: number;
  parserTableModulo: number;
  staticSize: number;
}

/** What xsl linked and preloaded into the device image, read from its output (mc.xs.c) and its report lines. */
export interface DeviceImage {
  /** Slots of the preloaded modules and built-ins, in flash (gxHeap). */
  flashSlots: number;
  /** Preloaded objects that are not frozen: each gets a RAM copy the first time it is written (mxAliasCount). */
  aliases: number;
  /** The modules in the image, and those xsl did not preload (their objects are built in RAM at boot). */
  modules: string[];
  notPreloaded: string[];
  keys: number;
  creation: Creation;
  /** xsl's `### N instances, N keys, N colors, N holes` line and its warnings. */
  report: string[];
  /** Bytes of resources (certificates) mcrez packed. */
  resourceBytes?: number;
}

const CREATION_FIELDS: (keyof Creation)[] = [
  "initialChunkSize", "incrementalChunkSize", "initialHeapCount", "incrementalHeapCount", "stackCount", "initialKeyCount",
  "incrementalKeyCount", "nameModulo", "symbolModulo", "parserBufferSize", "parserTableModulo", "staticSize",
];

/** Reads mc.xs.c (xsl's output) and the lines xsl and mcrez printed. Throws a plain Error if the file is not xsl's. */
export function readDeviceImage(mcXsC: string, toolOutput: string): DeviceImage {
  const source = fs.readFileSync(mcXsC, "utf8");
  const define = (name: string) => {
    const match = new RegExp(`^#define ${name} (\\d+)$`, "m").exec(source);
    if (!match) throw new Error(`${path.basename(mcXsC)} has no ${name}: not an xsl output`);
    return Number(match[1]);
  };
  const preparation = /static const txPreparation gxPreparation = \{[\s\S]*?\n\t\{ ([\d, ]+)\},\n\t"([^"]*)"/.exec(source);
  if (!preparation) throw new Error(`${path.basename(mcXsC)} has no gxPreparation: not an xsl output`);
  const values = preparation[1]!.split(",").map((v) => Number(v.trim()));
  const creation = Object.fromEntries(CREATION_FIELDS.map((field, i) => [field, values[i] ?? 0])) as unknown as Creation;
  const report = toolOutput.split("\n").filter((line) => line.startsWith("### "));
  const resources = /Total resource size: (\d+) bytes/.exec(toolOutput);
  return {
    flashSlots: define("mxHeapCount"),
    aliases: define("mxAliasCount"),
    ...scripts(source),
    keys: define("mxKeysCount"),
    creation,
    report,
    ...(resources ? { resourceBytes: Number(resources[1]) } : {}),
  };
}

/**
 * The image's modules, and those whose byte code xsl kept without preloading them: gxScripts entries are
 * `{ callback, symbols, symbolsSize, code, codeSize, hosts, hostsSize, path, version }`; a preloaded module's code
 * pointer is NULL (its objects are in gxHeap).
 */
function scripts(source: string): { modules: string[]; notPreloaded: string[] } {
  const block = /static const txScript gxScripts\[mxScriptsCount\] = \{([\s\S]*?)\n\};/.exec(source)?.[1] ?? "";
  const modules: string[] = [];
  const notPreloaded: string[] = [];
  for (const entry of block.matchAll(/\{ ([^{}]*?)"([^"]+)", \{[^}]*\} \}/g)) {
    const fields = entry[1]!.split(",").map((f) => f.trim());
    modules.push(entry[2]!);
    if (fields[3] && fields[3] !== "NULL") notPreloaded.push(entry[2]!);
  }
  return { modules, notPreloaded };
}
