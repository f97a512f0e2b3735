import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/**
 * A throwaway PKI made with openssl for one test run: a CA, a server certificate for the given names, a client
 * certificate (key as PKCS#1, the way AWS IoT hands keys out), an unrelated CA and a client certificate it issued.
 * Files: ca.pem, other-ca.pem, server.pem/.key, client.pem, client.key (PKCS#1), client-pkcs8.key, client-pkcs8.der,
 * stranger.pem/.key.
 */
export function makeTestPki(dir: string, serverNames: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  const ext = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
  for (const ca of ["ca", "other-ca"]) {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "2", "-subj", `/CN=esplab test ${ca}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-addext", "subjectKeyIdentifier=hash");
  }
  const issue = (name: string, subject: string, extensions: string, ca = "ca") => {
    openssl("req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", subject);
    ext(`${name}.ext`, extensions);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`);
  };
  openssl("genrsa", "-out", "server.key", "2048");
  issue("server", `/CN=${serverNames[0]}`, `subjectAltName=${serverNames.map((n) => `DNS:${n}`).join(",")}\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\n`);
  openssl("genrsa", "-traditional", "-out", "client.key", "2048");
  issue("client", "/CN=esplab-test-thing", "extendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n");
  openssl("genrsa", "-traditional", "-out", "stranger.key", "2048");
  issue("stranger", "/CN=esplab-test-stranger", "extendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n", "other-ca");
  openssl("pkcs8", "-topk8", "-nocrypt", "-in", "client.key", "-out", "client-pkcs8.key");
  openssl("pkcs8", "-topk8", "-nocrypt", "-in", "client.key", "-outform", "der", "-out", "client-pkcs8.der");
}
