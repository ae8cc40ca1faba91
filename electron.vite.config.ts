import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

// Native modules, Electron and what only the app, schedules and queues use load from node_modules at run time.
const external = ['better-sqlite3', 'ws', 'cron-parser', 'cronstrue', 'bullmq', 'ioredis', 'electron'];
// What every `dbferry run` loads goes into the bundle: as 100-odd separate ES modules (zod alone is 95) they
// cost 0.12 s of CPU at each start, a tenth of a 1M-row re-sync with nothing changed (`plan` of a
// PostgreSQL -> MariaDB job: 0.42-0.44 s of CPU against 0.30-0.32 s bundled).
const bundled = ['zod', 'pg', 'pg-copy-streams', 'mysql2', 'yaml'];

export default defineConfig({
  main: {
    build: {
      externalizeDeps: { exclude: bundled },
      outDir: 'out/main',
      rollupOptions: {
        external,
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          cli: resolve(__dirname, 'src/main/cli/index.ts'),
          // Lanes run in worker threads; the engine finds this file next to its bundle.
          chunkWorker: resolve(__dirname, 'src/main/engine/workers/chunkWorker.ts'),
          // A SQLite source's pass-through is checked beside the copy, on another core.
          sqliteCheckWorker: resolve(__dirname, 'src/main/engine/dialects/sqlite/checkWorker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // A sandboxed preload must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    resolve: { alias: { '@renderer': resolve(__dirname, 'src/renderer/src') } },
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      minify: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
