import { spawn, spawnSync, type ChildProcess } from "node:child_process";

export const hasSocat = spawnSync("socat", ["-V"]).status === 0;

/** Two connected pseudo-terminals from socat; `close()` kills socat. */
export async function ptyPair(): Promise<{ a: string; b: string; close(): void }> {
  const child: ChildProcess = spawn("socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], { stdio: ["ignore", "ignore", "pipe"] });
  const paths = await new Promise<string[]>((resolve, reject) => {
    let text = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const found = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
      if (found.length === 2 && text.includes("starting data transfer loop")) resolve(found);
    });
    child.once("exit", (code) => reject(new Error(`socat exited (${code}): ${text}`)));
  });
  return { a: paths[0]!, b: paths[1]!, close: () => child.kill() };
}
