import path from "node:path";
import { parseArgs } from "node:util";
import { createProject } from "../project/new-project.ts";

const USAGE = `usage: esplab new DIR [--app NAME] [--esplab SPEC]

Makes your own firmware project in DIR (a new or empty folder; nothing is ever overwritten): an app in src/, the
board's wiring in wiring.json, a starter scenario, settings without secrets and a .gitignore that keeps them out.
Then: cd DIR && npm install && npm start (the lab), npm test (type check and scenarios).
  --app NAME      the app's name (default: the folder's name)
  --esplab SPEC   package.json's dependency on esplab (default: this esplab, as file:<its folder>, or its version)`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { app: { type: "string" }, esplab: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const [directory] = positionals as [string];
  const { root, app, files } = createProject(directory, { app: values.app, esplab: values.esplab });
  const shown = path.relative(process.cwd(), root) || ".";
  console.log(`Made ${shown}/ with the app "${app}":`);
  for (const file of files) console.log(`  ${file}`);
  console.log(`
Next:
  cd ${shown}
  npm install
  npm start     # your app on the virtual board, with the local cloud
  npm test      # type check and scenarios`);
  return 0;
}
