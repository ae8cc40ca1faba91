import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

// Native and driver modules stay external: they load from node_modules at run time.
const external = ['better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', 'ws', 'yaml', 'zod', 'cron-parser', 'cronstrue', 'bullmq', 'ioredis', 'electron'];

export default defineConfig({
  main: {
    build: {
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
