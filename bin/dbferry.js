#!/usr/bin/env node
// The CLI is built by `npm run build` into out/main/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('dbferry: not built yet; run `npm run build` first\n');
  process.exit(1);
}
// pg asks whether it runs on Cloudflare Workers by making a fetch Response wherever there is no
// `navigator`, which Node 21 and later define and Node 20 does not: that loads undici, 40 ms of every
// start of a command that only talks to databases. Node 20 gets the navigator Node 21 has.
if (globalThis.navigator === undefined) {
  const { availableParallelism } = await import('node:os');
  Object.defineProperty(globalThis, 'navigator', {
    value: { hardwareConcurrency: availableParallelism(), language: 'en-US', platform: process.platform, userAgent: `Node.js/${process.versions.node.split('.')[0]}` },
    configurable: true,
    writable: true,
  });
}
await import(cli);
