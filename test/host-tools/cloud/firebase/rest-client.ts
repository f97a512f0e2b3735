import type { FirebaseEmulator } from "../../../../host-tools/cloud/firebase/index.ts";

export type Db = (p: string, init?: RequestInit & { auth?: string }) => Promise<Response>;

/** REST calls to one namespace of an emulator, as the administrator unless `auth` says otherwise ("" for nobody). */
export function restClient(emulator: () => FirebaseEmulator, namespace: string): Db {
  return (p, init = {}) => {
    const auth = init.auth ?? "owner";
    return fetch(`${emulator().databaseUrl}${p}${p.includes("?") ? "&" : "?"}ns=${namespace}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
    });
  };
}

export interface Stream {
  /** Each event but keep-alives, as `put {...}` or `cancel "Permission denied."`. */
  events: string[];
  /** True once the server ended the stream. */
  ended: () => boolean;
  close(): void;
}

/** Opens a stream with `db` and collects its events until closed. */
export async function listen(db: Db, p: string, auth?: string): Promise<Stream> {
  const controller = new AbortController();
  const response = await db(p, { headers: { Accept: "text/event-stream" }, signal: controller.signal, auth });
  const events: string[] = [];
  let ended = false;
  const reader = response.body!.getReader();
  void (async () => {
    let text = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) {
        ended = true;
        return;
      }
      text += new TextDecoder().decode(value);
      for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && type !== "keep-alive") events.push(`${type} ${data}`);
      }
    }
  })();
  return { events, ended: () => ended, close: () => controller.abort() };
}
