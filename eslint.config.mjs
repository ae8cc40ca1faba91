// Lint, and the layer rules of DESIGN.md: shared <- engine <- store/queue/api <- ipc/server/cli/index;
// the renderer imports only shared; only the Electron shell and preload may import electron.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const noElectron = { name: 'electron', message: 'only src/main/index.ts, src/main/ipc and src/preload may import electron (it cannot load under plain Node)' };

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'examples/**', 'bench-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron, ...nodeBuiltins.map((name) => ({ name, message: 'src/shared is imported by the renderer: no Node modules' }))], patterns: [{ group: ['**/main/**', '**/renderer/**', '**/preload/**'], message: 'src/shared imports nothing from other layers' }] }],
    },
  },
  {
    files: ['src/main/engine/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron], patterns: [{ group: ['**/store/**', '**/api/**', '**/cli/**', '**/server/**', '**/ipc/**', '**/runs/**', '**/queue/**', '**/renderer/**'], message: 'the engine depends only on src/shared' }] }],
    },
  },
  {
    files: ['src/main/store/**', 'src/main/runs/**', 'src/main/api/**', 'src/main/queue/**', 'src/main/cli/**', 'src/main/server/**', 'tests/**', 'scripts/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron], patterns: [{ group: ['**/renderer/**'], message: 'main-process code does not import the renderer' }] }],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron, ...nodeBuiltins.map((name) => ({ name, message: 'the renderer is sandboxed: no Node modules' }))], patterns: [{ group: ['**/main/**', '**/preload/**'], message: 'the renderer imports only src/shared' }] }],
    },
  },
);
