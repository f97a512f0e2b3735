// Runs the Firebase emulator alone in this process: node --import tsx host-tools/cloud/firebase/main.ts [dataDir]
// Prints one JSON line with the addresses once it listens. Used by the crash-durability test.
import { startFirebaseEmulator } from "./index.ts";

const emulator = await startFirebaseEmulator({ databasePort: 0, authPort: 0, dataDir: process.argv[2] });
console.log(JSON.stringify({ databaseUrl: emulator.databaseUrl, authUrl: emulator.authUrl }));
process.on("SIGTERM", () => void emulator.close().then(() => process.exit(0)));
