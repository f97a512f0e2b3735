import { describe, expect, it } from "vitest";
import { TokenAuthority, VERIFIED_TOKENS_KEPT } from "../../../../host-tools/cloud/firebase/tokens.ts";

const NOW = Date.UTC(2026, 0, 1);

describe("TokenAuthority.verify", () => {
  const authority = new TokenAuthority("demo-esplab");
  const user = { uid: "u1", provider: "password", email: "a@b.co" };

  it("answers the same claims for a token it has verified before, and refuses it once expired", () => {
    const token = authority.sign(user, NOW, 3600);
    const first = authority.verify(token, NOW);
    expect(first).toMatchObject({ uid: "u1", provider: "password", email: "a@b.co" });
    expect(authority.verify(token, NOW + 1000)).toEqual(first);
    expect(authority.verify(token, NOW + 3600_000)).toBeUndefined(); // remembered, still expired
    expect(authority.verify(token, NOW + 1000)).toEqual(first);
  });

  it("refuses a changed signature or payload even when the original was verified", () => {
    const token = authority.sign(user, NOW, 3600);
    expect(authority.verify(token, NOW)).toBeDefined();
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const otherSignature = `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    expect(authority.verify(`${header}.${payload}.${otherSignature}`, NOW)).toBeUndefined();
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: "admin" })).toString("base64url");
    expect(authority.verify(`${header}.${forged}.${signature}`, NOW)).toBeUndefined();
    expect(new TokenAuthority("demo-esplab").verify(token, NOW)).toBeUndefined(); // another key
  });

  it("keeps verifying correctly past the number of tokens it remembers", () => {
    const tokens = Array.from({ length: VERIFIED_TOKENS_KEPT + 5 }, (_, i) => authority.sign({ ...user, uid: `u${i}` }, NOW, 3600));
    for (const token of tokens) expect(authority.verify(token, NOW)).toBeDefined();
    // the first ones were forgotten and are checked again; they still verify, as the others do
    expect(authority.verify(tokens[0]!, NOW)?.uid).toBe("u0");
    expect(authority.verify(tokens.at(-1)!, NOW)?.uid).toBe(`u${VERIFIED_TOKENS_KEPT + 4}`);
  }, 120_000);
});

describe("TokenAuthority.verifyAccessToken", () => {
  const authority = new TokenAuthority("demo-esplab");
  const grant = { clientEmail: "lab@demo-esplab.iam.gserviceaccount.com", scope: "https://www.googleapis.com/auth/firebase.database https://www.googleapis.com/auth/userinfo.email" };

  it("answers a token it verified before from memory, refuses it once expired, and never takes an altered one", () => {
    const token = authority.signAccessToken(grant, NOW, 3600);
    const first = authority.verifyAccessToken(token, NOW);
    expect(first).toMatchObject({ clientEmail: grant.clientEmail, scopes: grant.scope.split(" ") });
    expect(authority.verifyAccessToken(token, NOW + 1000)).toBe(first); // the same grant: not verified again
    expect(authority.verifyAccessToken(token, NOW + 3600_000)).toBeUndefined();
    const signature = token.split(".").at(-1)!;
    const altered = `${token.slice(0, -signature.length)}${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`;
    expect(authority.verifyAccessToken(altered, NOW)).toBeUndefined();
    expect(new TokenAuthority("demo-esplab").verifyAccessToken(token, NOW)).toBeUndefined(); // another key
    expect(authority.verify(token, NOW)).toBeUndefined(); // an access token is no ID token
  });
});
