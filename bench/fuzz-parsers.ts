/**
 * Every parser of outside bytes, fed random inputs: mutations of real samples (bytes flipped, cut, repeated, spliced)
 * and raw noise, from a seeded generator. For each parser it reports inputs per second, crashes (anything thrown
 * that is not the parser's own typed error), hangs (one input over 100 ms) and the process's peak memory. The
 * comparison it prints is with the parser's own clean-input rate in the same run.
 * Run: npx tsx bench/fuzz-parsers.ts [INPUTS=1000000] [SECONDS_PER_PARSER=120] [SEED=1] [PARSER-NAME-PART]
 */
import crypto from "node:crypto";
import { EsplabError } from "../firmware/core/errors.ts";
import { KeyFormatError } from "../firmware/crypto/der.ts";
import { parsePkcs8, parseRsaPrivateKeyPem } from "../firmware/crypto/rsa-key.ts";
import { depthOf, normalize, setAt } from "../firmware/net/firebase/tree.ts";
import { pathSegments } from "../firmware/net/firebase/values.ts";
import { ResponseParser } from "../firmware/net/http/response-parser.ts";
import { SseParser } from "../firmware/net/http/sse.ts";
import { parseUrl, resolveLocation } from "../firmware/net/http/url.ts";
import { MqttDecoder } from "../firmware/net/mqtt/decoder.ts";
import { parseScenario } from "../host-tools/scenario/parse.ts";
import type { JsonValue } from "../firmware/net/firebase/ordering.ts";

const INPUTS = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 120);
let seed = Number(process.argv[4] ?? 1) >>> 0 || 1;
const HANG_MS = 100;

/** xorshift32: the same inputs for the same seed, on any machine. */
function random(): number {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x1_0000_0000;
}
const below = (n: number) => Math.floor(random() * n);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (s: string) => new TextEncoder().encode(s);

/** Inputs stay below this (a repeated piece can grow fast); parsers' own size limits are tested at their edges. */
const MAX_INPUT = 64 * 1024;

/** One mutated input from a sample: a few edits of the kinds that break parsers. */
function mutate(sample: Uint8Array): Uint8Array {
  if (random() < 0.05) return Uint8Array.from({ length: below(512) }, () => below(256));
  let out: number[] = Array.from(sample);
  const insert = (at: number, piece: number[]) => (out = out.slice(0, at).concat(piece, out.slice(at)));
  for (let edits = 1 + below(4); edits > 0; edits--) {
    const at = below(out.length + 1);
    switch (below(6)) {
      case 0:
        out[at] = below(256);
        break;
      case 1:
        out.splice(at, 1 + below(8));
        break;
      case 2:
        insert(at, out.slice(at, at + 1 + below(16)));
        break;
      case 3: {
        const start = below(out.length);
        const piece = out.slice(start, start + 1 + below(32));
        const repeated: number[] = [];
        for (let r = below(64); r > 0; r--) repeated.push(...piece);
        insert(at, repeated);
        break;
      }
      case 4:
        insert(at, Array.from(bytesOf(["\r\n", "\n", ":", "{", "[", "\"", "\\", "%", "/", "#", "?", "*", "&", "\u2028"][below(14)]!)));
        break;
      default:
        out = out.slice(0, at);
    }
    if (out.length > MAX_INPUT) out = out.slice(0, MAX_INPUT);
  }
  return Uint8Array.from(out);
}

interface Parser {
  name: string;
  samples: (string | Uint8Array)[];
  /** Parses one input; the parser's own typed errors are the right answer to bad input. */
  parse(input: Uint8Array): void;
  typed(error: unknown): boolean;
}

const isEsplab = (error: unknown) => error instanceof EsplabError;
const noop = () => {};
/** Splits bytes at random points, as a socket delivers them. */
function chunks(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < input.length; ) {
    const size = 1 + below(64);
    out.push(input.subarray(at, at + size));
    at += size;
  }
  return out;
}

const parsers: Parser[] = [
  {
    name: "URL (parseUrl, resolveLocation)",
    samples: ["https://esplab-db.firebaseio.com/readings/Device001.json?auth=x&orderBy=%22ts%22", "http://127.0.0.1:9000/?ns=lab#frag", "https://securetoken.googleapis.com/v1/token?key=AIza"],
    parse(input) {
      const url = text(input);
      parseUrl(url);
      resolveLocation("https://example.com/a/b?c", url);
    },
    typed: isEsplab,
  },
  {
    name: "HTTP/1.1 responses (ResponseParser)",
    samples: [
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2,3]}",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
      "HTTP/1.1 307 Temporary Redirect\r\nLocation: https://x/y\r\nContent-Length: 0\r\n\r\n",
    ],
    parse(input) {
      const parser = new ResponseParser({ method: "GET", maxBodyBytes: 1 << 20, onHead: noop, onBody: noop, onComplete: noop });
      for (const chunk of chunks(input)) parser.push(chunk);
      parser.end();
    },
    typed: isEsplab,
  },
  {
    name: "Server-Sent Events (SseParser)",
    samples: ['event: put\ndata: {"path":"/","data":{"a":1}}\n\n', "event: keep-alive\r\ndata: null\r\n\r\nid: 7\nretry: 100\n: comment\n\n"],
    parse(input) {
      const parser = new SseParser({ onEvent: noop, onRetry: noop });
      for (const chunk of chunks(input)) parser.push(chunk);
    },
    typed: isEsplab,
  },
  {
    name: "Firebase event paths and trees (pathSegments, depthOf, setAt)",
    samples: ['{"path":"/readings/-Nx1/temp","data":{"v":22.5,"ts":{".sv":"timestamp"}}}', '{"path":"/","data":{"a":{"b":{"c":[1,2,{"d":null}]}}}}'],
    parse(input) {
      let event: { path?: unknown; data?: JsonValue };
      try {
        event = JSON.parse(text(input)) as { path?: unknown; data?: JsonValue };
      } catch {
        return; // JSON.parse's SyntaxError is the stream's "not JSON": typed there, not a crash
      }
      if (!event || typeof event !== "object" || typeof event.path !== "string") return;
      const segments = pathSegments(event.path);
      const data = event.data ?? null;
      depthOf(data, 32);
      normalize(setAt({}, segments, data));
    },
    typed: isEsplab,
  },
  {
    name: "MQTT 3.1.1 packets (MqttDecoder)",
    samples: [
      Uint8Array.of(0x30, 0x13, 0x00, 0x0a, ...bytesOf("sensor/D01"), ...bytesOf('{"t":1}')),
      Uint8Array.of(0x20, 0x02, 0x00, 0x00, 0x32, 0x0a, 0x00, 0x03, ...bytesOf("a/b"), 0x00, 0x01, ...bytesOf("hey")),
      Uint8Array.of(0x90, 0x03, 0x00, 0x01, 0x01, 0xd0, 0x00),
    ],
    parse(input) {
      const decoder = new MqttDecoder({ maxPacketSize: 1 << 16 });
      for (const chunk of chunks(input)) decoder.feed(chunk, noop);
    },
    typed: isEsplab,
  },
  {
    name: "RSA private keys, PEM and DER (parseRsaPrivateKeyPem, parsePkcs8)",
    // Generated for the run: a key of the size Google's service accounts have, as PKCS#8 and PKCS#1 PEM and as DER.
    samples: (() => {
      const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
      return [
        privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
        new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" })),
      ];
    })(),
    parse(input) {
      if (input[0] === 0x30) parsePkcs8(input);
      else parseRsaPrivateKeyPem(text(input));
    },
    typed: (error) => error instanceof KeyFormatError,
  },
  {
    name: "scenario YAML (parseScenario)",
    samples: ["name: n\napp: board-check\nsteps:\n  - expect: { lcd: \"IR clear\", within: 5s }\n  - press: \"123#\"\n  - set: { distance: 30 }\n", "name: &a x\nsteps: [*a, {wait: 10ms}]\n", "name: two\napp: &app telemetry\nconfig: { app: *app }\nsteps:\n  - wait: 10ms\n  - publish: { topic: cmd/D/servo, payload: \"90\" }\n"],
    parse(input) {
      parseScenario(text(input), "fuzz.yaml");
    },
    typed: isEsplab,
  },
];

function rssMb(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

console.log(`Fuzzing each parser with up to ${INPUTS.toLocaleString("en")} inputs or ${SECONDS} s, seed ${process.argv[4] ?? 1}\n`);
console.log("| parser | inputs | inputs/s | clean samples/s | crashes | hangs (> 100 ms) | slowest input | peak RSS |");
console.log("|---|---|---|---|---|---|---|---|");
let failures = 0;
const only = process.argv[5]?.toLowerCase();
for (const parser of parsers.filter((p) => !only || p.name.toLowerCase().includes(only))) {
  const samples = parser.samples.map((sample) => (typeof sample === "string" ? bytesOf(sample) : sample));
  const cleanStart = performance.now();
  let clean = 0;
  while (performance.now() - cleanStart < 200) {
    try {
      parser.parse(samples[clean++ % samples.length]!);
    } catch (error) {
      if (!parser.typed(error)) throw error;
    }
  }
  const cleanRate = clean / ((performance.now() - cleanStart) / 1000);

  let crashes = 0;
  let hangs = 0;
  let slowest = 0;
  let done = 0;
  let peak = rssMb();
  const examples: string[] = [];
  const start = performance.now();
  while (done < INPUTS && performance.now() - start < SECONDS * 1000) {
    const input = mutate(samples[below(samples.length)]!);
    const before = performance.now();
    try {
      parser.parse(input);
    } catch (error) {
      if (!parser.typed(error)) {
        crashes++;
        if (examples.length < 3) examples.push(`crash: ${(error as Error)?.name}: ${(error as Error)?.message} on ${JSON.stringify(text(input).slice(0, 80))}`);
      }
    }
    const took = performance.now() - before;
    if (took > slowest) slowest = took;
    if (took > HANG_MS) {
      hangs++;
      if (examples.length < 3) examples.push(`hang: ${took.toFixed(0)} ms on ${input.length} bytes ${JSON.stringify(text(input).slice(0, 160))}`);
    }
    done++;
    if ((done & 0x3fff) === 0) peak = Math.max(peak, rssMb());
  }
  const rate = done / ((performance.now() - start) / 1000);
  peak = Math.max(peak, rssMb());
  failures += crashes + hangs;
  console.log(`| ${parser.name} | ${done.toLocaleString("en")} | ${Math.round(rate).toLocaleString("en")} | ${Math.round(cleanRate).toLocaleString("en")} | ${crashes} | ${hangs} | ${slowest.toFixed(1)} ms | ${Math.round(peak)} MB |`);
  for (const example of examples) console.log(`    ${example}`);
}
process.exitCode = failures ? 1 : 0;
