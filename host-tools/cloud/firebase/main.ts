// Runs the Firebase emulator alone in this process: node --import tsx host-tools/cloud/firebase/main.ts [dataDir]
// Prints one JSON line with the addresses once it listens. Used by the crash-durability tests, which may also set
//   ESPLAB_FIREBASE_COMPACT_AFTER_BYTES  compact once a namespace's log holds this many bytes
//   ESPLAB_FIREBASE_PAUSE_AT             stop compaction at this step (store.ts COMPACTION_STEPS) and print
//                                        {"paused": step, "namespace": …}, so the test can kill the process there
import { startFirebaseEmulator } from "./index.ts";
import { COMPACTION_STEPS, type CompactionStep } from "./store.ts";

const pauseAt = process.env.ESPLAB_FIREBASE_PAUSE_AT as CompactionStep | undefined;
if (pauseAt !== undefined && !COMPACTION_STEPS.includes(pauseAt)) throw new Error(`ESPLAB_FIREBASE_PAUSE_AT=${pauseAt} is not a compaction step; use one of ${COMPACTION_STEPS.join(", ")}`);
const afterBytes = process.env.ESPLAB_FIREBASE_COMPACT_AFTER_BYTES ? Number(process.env.ESPLAB_FIREBASE_COMPACT_AFTER_BYTES) : undefined;
const emulator = await startFirebaseEmulator({
  databasePort: 0,
  authPort: 0,
  dataDir: process.argv[2],
  compaction: { afterBytes, pauseAt, onPause: (namespace, step) => console.log(JSON.stringify({ paused: step, namespace })) },
});
console.log(JSON.stringify({ databaseUrl: emulator.databaseUrl, authUrl: emulator.authUrl }));
process.on("SIGTERM", () => void emulator.close().then(() => process.exit(0)));
