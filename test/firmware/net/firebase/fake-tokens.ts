import type { TokenSource } from "../../../../firmware/net/firebase/auth.ts";

/** A TokenSource that hands out `token`, and `fresh` after an invalidate or forced refresh, counting refreshes. */
export class FakeTokens implements TokenSource {
  token = "stale";
  fresh = "good";
  refreshes = 0;
  #invalid = false;
  async getIdToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    if (options.forceRefresh || this.#invalid) {
      this.refreshes++;
      this.token = this.fresh;
      this.#invalid = false;
    }
    return this.token;
  }
  invalidate(): void {
    this.#invalid = true;
  }
}
