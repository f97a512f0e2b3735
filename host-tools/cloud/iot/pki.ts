/**
 * The local AWS IoT Core's certificate authority: one root CA per data directory, the certificates it issues to
 * things (RSA 2048 keys, handed out as AWS's CreateKeysAndCertificate does: certificate PEM, PKCS#1 private key,
 * public key, certificate id = SHA-256 of the DER), and the server certificate for the endpoint. Certificates are
 * made with @peculiar/x509 on WebCrypto, so no openssl binary is needed on the student's machine.
 */
import crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

// @peculiar/x509 takes the DOM Crypto type, which Node's webcrypto implements
x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.CryptoProvider.prototype.set>[1]);

const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const DAY_MS = 86_400_000;

export interface CertificateAuthority {
  certificatePem: string;
  privateKeyPem: string;
}

export interface IssuedCertificate {
  /** AWS's certificate id: the SHA-256 of the certificate's DER, 64 lowercase hex digits. */
  certificateId: string;
  certificatePem: string;
  /** PKCS#1 ("BEGIN RSA PRIVATE KEY"), as AWS IoT hands it out. */
  privateKeyPem: string;
  publicKeyPem: string;
}

export async function createCertificateAuthority(commonName = "esplab local AWS IoT root CA"): Promise<CertificateAuthority> {
  const keys = await crypto.webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}, O=esplab`,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 20 * 365 * DAY_MS),
    keys,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: pemText(certificate.toString("pem")), privateKeyPem: await pkcs8Pem(keys.privateKey) };
}

/** A device certificate for a thing: client authentication only, valid for as long as AWS's (until 2049). */
export async function issueThingCertificate(ca: CertificateAuthority, thingName: string): Promise<IssuedCertificate> {
  return issue(ca, `CN=AWS IoT Certificate, OU=${thingName}`, new Date(Date.UTC(2049, 11, 31, 23, 59, 59)), [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);
}

/** The endpoint's certificate: every name and address a device may use to reach this laptop. */
export async function issueServerCertificate(ca: CertificateAuthority, names: { dns: string[]; ips: string[] }): Promise<IssuedCertificate> {
  return issue(ca, `CN=${names.dns[0] ?? names.ips[0] ?? "localhost"}`, new Date(Date.now() + 365 * DAY_MS), [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      ...names.dns.map((value) => ({ type: "dns" as const, value })),
      ...names.ips.map((value) => ({ type: "ip" as const, value })),
    ]),
  ]);
}

/** The certificate id AWS gives a certificate: SHA-256 of its DER, in hex. */
export function certificateId(certificatePem: string): string {
  return new crypto.X509Certificate(certificatePem).fingerprint256.replaceAll(":", "").toLowerCase();
}

async function issue(ca: CertificateAuthority, subject: string, notAfter: Date, extensions: x509.Extension[]): Promise<IssuedCertificate> {
  const issuer = new x509.X509Certificate(ca.certificatePem);
  const signingKey = await crypto.webcrypto.subtle.importKey("pkcs8", pemBody(ca.privateKeyPem), RSA, false, ["sign"]);
  const keys = await crypto.webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"]);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: issuer.subject,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter,
    signingKey,
    publicKey: keys.publicKey,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      await x509.AuthorityKeyIdentifierExtension.create(issuer),
      ...extensions,
    ],
  });
  const privateKey = crypto.createPrivateKey({ key: Buffer.from(await crypto.webcrypto.subtle.exportKey("pkcs8", keys.privateKey)), format: "der", type: "pkcs8" });
  const certificatePem = pemText(certificate.toString("pem"));
  return {
    certificateId: certificateId(certificatePem),
    certificatePem,
    privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKeyPem: crypto.createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
  };
}

async function pkcs8Pem(key: crypto.webcrypto.CryptoKey): Promise<string> {
  return pemText(x509.PemConverter.encode(await crypto.webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY"));
}

/** PEM as files hold it: Unix line ends and a final newline, so certificates can be concatenated into a chain. */
function pemText(pem: string): string {
  const text = pem.replace(/\r\n/g, "\n");
  return text.endsWith("\n") ? text : `${text}\n`;
}

function pemBody(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
}

/** A positive 16-byte serial number, hex (RFC 5280: unique per CA, at most 20 octets). */
function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString("hex");
}
