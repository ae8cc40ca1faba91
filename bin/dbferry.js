#!/usr/bin/env node
// The CLI is built by `npm run build` into out/main/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('dbferry: not built yet; run `npm run build` first\n');
  process.exit(1);
}
await import(cli);
