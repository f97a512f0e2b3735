import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const probeDir = path.join(root, "firmware", ".portability-probe");

/** Type-checks one firmware source file with firmware/tsconfig.json's rules; returns the diagnostics' texts. */
function checkFirmwareSource(name: string, source: string): string[] {
  fs.mkdirSync(probeDir, { recursive: true });
  const file = path.join(probeDir, name);
  fs.writeFileSync(file, source);
  const configPath = path.join(root, "firmware", "tsconfig.json");
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(configPath));
  const typings = parsed.fileNames.filter((f) => f.includes("node_modules"));
  const program = ts.createProgram([...typings, file], parsed.options);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

afterAll(() => fs.rmSync(probeDir, { recursive: true, force: true }));

describe("firmware portability: the type check makes Node and browser APIs impossible", () => {
  it("accepts portable code that uses the seams", () => {
    const errors = checkFirmwareSource(
      "portable.ts",
      `import type { Clock } from "../ports/clock.ts";
       import { utf8Encode } from "../core/utf8.ts";
       export function stamp(clock: Clock): Uint8Array { return utf8Encode(String(clock.now())); }`,
    );
    expect(errors).toEqual([]);
  });

  it.each([
    ["a Node module", `import fs from "node:fs"; export const x = fs;`, /Cannot find module 'node:fs'/],
    ["Buffer", `export const x = Buffer.from("a");`, /Cannot find name 'Buffer'/],
    ["process", `export const x = process.env;`, /Cannot find name 'process'/],
    ["setTimeout", `setTimeout(() => {}, 1);`, /Cannot find name 'setTimeout'/],
    ["console", `console.log("x");`, /Cannot find name 'console'/],
    ["fetch", `export const x = fetch("http://x");`, /Cannot find name 'fetch'/],
    ["TextEncoder", `export const x = new TextEncoder();`, /Cannot find name 'TextEncoder'/],
    ["the DOM", `export const x = document.body;`, /Cannot find name 'document'/],
  ])("rejects %s", (_what, source, message) => {
    expect(checkFirmwareSource("unportable.ts", source).join("\n")).toMatch(message);
  });
});

describe("firmware layering", () => {
  const sources = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith(".") ? [] : sources(full);
      return entry.name.endsWith(".ts") ? [full] : [];
    });

  it("only firmware/platform/moddable imports Moddable's modules; everything else imports relative paths", () => {
    const offenders: string[] = [];
    for (const file of sources(path.join(root, "firmware"))) {
      const relative = path.relative(root, file);
      if (relative.startsWith(path.join("firmware", "platform", "moddable"))) continue;
      // Import and export statements only (at the start of a line), not prose in comments that happens to say "from".
      for (const match of fs.readFileSync(file, "utf8").matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']/gm)) {
        const specifier = match[1] ?? match[2] ?? match[3]!;
        if (!specifier.startsWith(".")) offenders.push(`${relative}: ${specifier}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
