/**
 * Where a worker thread's built entry lives (out/main/NAME.js): beside the
 * bundle that imports this, one folder up from a shared chunk, or under
 * out/main from the sources (tests load the engine from src/ and workers from
 * the build). Undefined when it is not built: callers then do the work on
 * their own thread.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function builtWorker(fileName: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, fileName), join(dir, 'out', 'main', fileName)]) if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}
