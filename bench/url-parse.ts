/**
 * Time to parse a hostile URL (`"http://" + "a"×n + "#\nx"`, the shape a redirect's Location can take) as n doubles:
 * esplab's one-pass parseUrl, Node's WHATWG URL as a peer, and the single regular expression parseUrl used before,
 * which backtracks over every split of the authority. Linear code doubles its time with n; quadratic code quadruples.
 * Run: npx tsx bench/url-parse.ts
 */
import { parseUrl } from "../firmware/net/http/url.ts";

const BACKTRACKING = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;

const parsers: [string, (input: string) => unknown][] = [
  ["esplab parseUrl", (input) => parseUrl(input)],
  ["WHATWG URL (Node)", (input) => new URL(input)],
  ["previous regex", (input) => BACKTRACKING.exec(input)],
];

function timeMs(parse: (input: string) => unknown, input: string): number {
  let runs = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    try {
      parse(input);
    } catch {
      // refusing it is the right answer; only the time counts here
    }
    runs++;
    elapsed = performance.now() - start;
  } while (elapsed < 50 && runs < 10_000);
  return elapsed / runs;
}

const sizes = [1000, 2000, 4000, 8000, 16_000];
console.log(`Parsing "http://" + "a"×n + "#\\nx" (ms per parse; ×: time relative to the previous n)\n`);
console.log(["parser".padEnd(20), ...sizes.map((n) => `n=${n}`.padStart(18))].join(""));
for (const [name, parse] of parsers) {
  let previous: number | undefined;
  const cells = sizes.map((n) => {
    const ms = timeMs(parse, "http://" + "a".repeat(n) + "#\nx");
    const cell = `${ms.toFixed(4)}${previous ? ` ×${(ms / previous).toFixed(1)}` : ""}`;
    previous = ms;
    return cell.padStart(18);
  });
  console.log([name.padEnd(20), ...cells].join(""));
}
