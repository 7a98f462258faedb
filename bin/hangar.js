#!/usr/bin/env node
// The `hangar` command runs the CLI from the build, so it uses the very engine the app uses.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  console.error(
    'hangar: the CLI is not built yet. Run `npm run setup` (or `npm run build`) in the Hangar directory.',
  );
  process.exit(2);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));
