// The thread that builds firmware bundles for BackgroundBuilder. Plain JavaScript because a new thread starts
// without the TypeScript loader: it registers tsx, then runs buildFirmwareBundle for each request.
import { parentPort } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { buildFirmwareBundle, BuildError } = await import("./firmware-bundle.ts");

parentPort.on("message", async ({ id, target, project }) => {
  try {
    parentPort.postMessage({ id, file: await buildFirmwareBundle(target, project) });
  } catch (error) {
    const problem = error instanceof BuildError ? error.problem : { message: String(error?.message ?? error) };
    parentPort.postMessage({ id, problem });
  }
});
parentPort.postMessage({ ready: true });
