/** A throwaway CA, server and device certificate made with openssl, for mutual-TLS tests. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  deviceCert: string;
  deviceKey: string;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function makeTestPki(serverName: string): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "esplab-pki-"));
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=esplab test root CA", "-days", "1");
  const issue = (name: string, subject: string, extensions: string) => {
    openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
    fs.writeFileSync(at(`${name}.ext`), extensions);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`);
  };
  issue("server", `/CN=${serverName}`, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`);
  issue("device", "/CN=lab-thing", "extendedKeyUsage=clientAuth\n");
  const read = (name: string) => fs.readFileSync(at(name), "utf8");
  const pki = { ca: read("ca.pem"), serverCert: read("server.pem"), serverKey: read("server.key"), deviceCert: read("device.pem"), deviceKey: read("device.key") };
  fs.rmSync(dir, { recursive: true, force: true });
  return pki;
}
