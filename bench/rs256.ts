/**
 * The cost of one RS256 signature (a service account's JWT) with a 2048-bit key: the firmware's portable code inside
 * the XS engine (xsnap-worker, the engine the firmware's XS tests use), the same code on Node, and Node's
 * crypto.sign (OpenSSL) as the peer, same key, same JWT, same run. Also what XS spends reading the PEM key, which
 * the device does once at boot. The key is generated for the run.
 * Run: npx tsx bench/rs256.ts [SIGNATURES_IN_XS=20]
 */
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { parseRsaPrivateKeyPem } from "../firmware/crypto/rsa-key.ts";
import { signRs256 } from "../firmware/crypto/rsa-sign.ts";
import { XsnapWorker } from "../host-tools/xs/xsnap-worker.ts";
import { bundleXsScript } from "../test/support/xs-script.ts";

const XS_RUNS = Number(process.argv[2] ?? 20);
const ROOT = path.resolve(import.meta.dirname, "..");
const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
// A JWT signing input of the size a service account sends (header and claims, base64url).
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const iat = Math.floor(Date.now() / 1000);
const signingInput = `${b64({ alg: "RS256", typ: "JWT", kid: "0123456789abcdef0123456789abcdef01234567" })}.${b64({
  iss: "device-writer@demo-esplab.iam.gserviceaccount.com",
  scope: "https://www.googleapis.com/auth/firebase.database https://www.googleapis.com/auth/userinfo.email",
  aud: "https://oauth2.googleapis.com/token",
  iat,
  exp: iat + 3600,
})}`;
const message = Buffer.from(signingInput);

/** Median of `runs` timings of `work` in ms. */
function median(runs: number, work: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

// Node: OpenSSL, and our code.
for (let i = 0; i < 20; i++) crypto.sign("RSA-SHA256", message, privateKey);
const opensslMs = median(200, () => crypto.sign("RSA-SHA256", message, privateKey));
const key = parseRsaPrivateKeyPem(pem);
for (let i = 0; i < 5; i++) signRs256(key, message);
const oursNodeMs = median(50, () => signRs256(key, message));
const parseNodeMs = median(50, () => parseRsaPrivateKeyPem(pem));

// XS: the same modules bundled; each figure is timed from the host around one evaluation (one signature or one parse).
const xs = new XsnapWorker();
await xs.evaluate(
  await bundleXsScript(`
    import { parseRsaPrivateKeyPem } from "${ROOT}/firmware/crypto/rsa-key.ts";
    import { signRs256 } from "${ROOT}/firmware/crypto/rsa-sign.ts";
    import { utf8Encode } from "${ROOT}/firmware/core/utf8.ts";
    globalThis.PEM = ${JSON.stringify(pem)};
    globalThis.KEY = parseRsaPrivateKeyPem(PEM);
    globalThis.MESSAGE = utf8Encode(${JSON.stringify(signingInput)});
    globalThis.parse = () => { parseRsaPrivateKeyPem(PEM); };
    globalThis.sign = () => { globalThis.last = Array.from(signRs256(KEY, MESSAGE)); };
  `),
);
const timeXs = async (code: string, runs: number) => {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await xs.evaluate(code);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
};
const emptyXsMs = await timeXs("0", 20); // one evaluation's round trip, subtracted below
await timeXs("sign()", 2);
const signXsMs = (await timeXs("sign()", XS_RUNS)) - emptyXsMs;
const parseXsMs = (await timeXs("parse()", XS_RUNS)) - emptyXsMs;
await xs.evaluate("print(JSON.stringify(last))");
const xsSignature = Buffer.from(JSON.parse(xs.output.at(-1)!) as number[]);
await xs.close();
if (!crypto.verify("RSA-SHA256", message, publicKey, xsSignature)) throw new Error("the signature made in XS does not verify: the bench measured something broken");

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log(`RS256, 2048-bit key, a ${message.length}-byte JWT signing input — ${cpu}, ${os.cpus().length} CPUs, Node ${process.version}`);
console.log("| what | one signature | key from PEM |");
console.log("|---|---|---|");
console.log(`| esplab firmware code in XS (xsnap-worker), CRT + 4-bit windows over BigInt | ${signXsMs.toFixed(1)} ms | ${parseXsMs.toFixed(1)} ms |`);
console.log(`| esplab firmware code on Node | ${oursNodeMs.toFixed(2)} ms | ${parseNodeMs.toFixed(2)} ms |`);
console.log(`| Node crypto.sign (OpenSSL), the peer | ${opensslMs.toFixed(3)} ms | – |`);
console.log(`XS / OpenSSL: ${(signXsMs / opensslMs).toFixed(0)}×; the signature made in XS verifies with Node's crypto.verify.`);
console.log("An ESP32 runs XS far slower than this machine; no factor is measured here (see docs/service-accounts.md).");
