// Module resolution hooks (node:module register) for a student's app on the Node engine: "esplab/firmware" is this
// esplab's library, whether or not the project's node_modules has esplab (a graded copy of a project may have none).
const LIBRARY = new URL("../../firmware/index.ts", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  // Handed on as a file URL, so the TypeScript loader (tsx) still loads it.
  if (specifier === "esplab/firmware") return nextResolve(LIBRARY, context);
  return nextResolve(specifier, context);
}
