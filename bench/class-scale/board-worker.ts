/**
 * A share of the class's boards, in one process (what a board is: boards.ts). Each board has its own account —
 * signed up through the emulator's Auth REST API, then signed in by the firmware itself (firebase_email +
 * firebase_password, so nobody types on the keypad). Every 2 s it reads the sensor, pushes the reading to
 * /readings/<id>, reads the newest back with a query, and moves the servo; the loop timed here ends there (the LCD's
 * update and the serial line after it are not counted).
 *
 * Started by bench/class-scale.ts with an IPC channel. Messages in: start, window, report, stop; out: ready, report.
 */
import type { FlatConfig } from "../../firmware/apps/config.ts";
import { makeBoard, type BenchBoard, type BoardKind } from "./boards.ts";
import { PhasedClock } from "./phased-clock.ts";

export interface StartMessage {
  type: "start";
  /** Global board numbers this process runs. */
  boards: number[];
  /** Each board's loop phase in ms (0 for all: aligned). */
  phases: number[];
  firmwareConfig: FlatConfig;
  authUrl: string;
  loopMs: number;
  kind: BoardKind;
  /** How many of this process's boards sign in at once. */
  signInsAtOnce: number;
}

export interface WorkerReport {
  type: "report";
  /** Tick → the servo's PWM written, ms, for the ticks that fired inside the window. */
  loops: number[];
  ticks: number;
  failures: number;
  /** This process's CPU over the window, as a fraction of one core. */
  cpuCores: number;
}

interface Board {
  board: BenchBoard;
  tickAt: number | undefined;
  counted: boolean;
}

if (!process.send) throw new Error("board-worker.ts is started by bench/class-scale.ts with an IPC channel");
// The parent may be gone (it stopped on another worker's error): then so is this process, quietly.
const send = (message: object) => process.connected && process.send!(message);
process.on("disconnect", () => process.exit(0));
const boards: Board[] = [];
let window: { from: number; until: number; cpu: NodeJS.CpuUsage; at: number } | undefined;
let loops: number[] = [];
let ticks = 0;
let failures = 0;
const inWindow = (at: number) => window !== undefined && at >= window.from && at < window.until;

/** Creates the account through the Auth emulator's REST sign-up (the console's "Add user" in the course). */
async function signUp(authUrl: string, email: string, password: string): Promise<void> {
  const response = await fetch(`${authUrl}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=bench`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, returnSecureToken: true }),
  });
  if (!response.ok) throw new Error(`sign-up of ${email} failed: ${response.status} ${await response.text()}`);
}

async function startBoard(message: StartMessage, n: number, phase: number): Promise<Board> {
  const email = `board${n}@class.esplab.local`;
  const password = `pw-${n}-class`;
  await signUp(message.authUrl, email, password);
  const board: Board = { board: undefined as unknown as BenchBoard, tickAt: undefined, counted: false };
  const clock = new PhasedClock(message.loopMs, phase, () => {
    board.tickAt = performance.now();
    board.counted = inWindow(board.tickAt);
    if (board.counted) ticks++;
  });
  const config: FlatConfig = { ...message.firmwareConfig, app: "assignment2", device_id: `Board${n}`, firebase_email: email, firebase_password: password, reading_interval_ms: message.loopMs };
  let firstLoop: (() => void) | undefined;
  let stopped: ((error: Error) => void) | undefined;
  const firstReading = new Promise<void>((resolve, reject) => ((firstLoop = resolve), (stopped = reject)));
  // The loop ends when the servo is told its angle.
  const onServo = () => {
    if (board.counted && board.tickAt !== undefined) loops.push(performance.now() - board.tickAt);
    board.tickAt = undefined;
  };
  const onLine = (text: string) => {
    if (text.startsWith("reading failed") || text.startsWith("assignment2 stopped")) {
      if (board.counted) failures++;
      if (text.startsWith("assignment2 stopped")) stopped!(new Error(`Board${n}: ${text}`));
    } else if (text.startsWith("reading ")) firstLoop!();
  };
  board.board = makeBoard(message.kind, config, clock, n, onServo, onLine);
  await board.board.start();
  await firstReading;
  return board;
}

process.on("message", (message: { type: string } & Record<string, unknown>) => {
  if (message.type === "start") {
    const start = message as unknown as StartMessage;
    void (async () => {
      for (let i = 0; i < start.boards.length; i += start.signInsAtOnce) {
        const slice = start.boards.slice(i, i + start.signInsAtOnce);
        boards.push(...(await Promise.all(slice.map((n, j) => startBoard(start, n, start.phases[i + j]!)))));
      }
      send({ type: "ready" });
    })().catch((error: Error) => send({ type: "error", message: error.stack ?? error.message }));
  } else if (message.type === "window") {
    // Wall-clock instants from the parent, in performance.now() of this process.
    const offset = performance.now() - Date.now();
    window = { from: (message.from as number) + offset, until: (message.until as number) + offset, cpu: process.cpuUsage(), at: performance.now() };
    loops = [];
    ticks = 0;
    failures = 0;
  } else if (message.type === "report") {
    const cpu = process.cpuUsage(window!.cpu);
    const wall = performance.now() - window!.at;
    const report: WorkerReport = { type: "report", loops, ticks, failures, cpuCores: (cpu.user + cpu.system) / 1000 / wall };
    send(report);
  } else if (message.type === "stop") {
    void Promise.all(boards.map((board) => board.board.stop())).then(() => process.exit(0));
  }
});
send({ type: "spawned" });
