import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The longest files, longest first (seconds each on the 2-core CI machine, 2026-12): started
 * before the rest, so that none of them starts late and runs alone at the end. Without a
 * results cache (CI's fresh clone) vitest starts the largest files first, and a file's size says
 * little about how long it takes. Files not listed follow in vitest's own order.
 */
const SLOW_FIRST = [
  'tests/integration/queue.test.ts', // ~100
  'tests/integration/safety.test.ts', // ~95
  'tests/integration/pairs.test.ts', // ~80
  'tests/integration/safety-undo.test.ts', // ~70
  'tests/integration/delta.test.ts', // ~65
  'tests/integration/resync.test.ts', // ~60
  'tests/integration/parallel.test.ts', // ~55
  'tests/integration/parallel-passthrough.test.ts', // ~55
  'tests/integration/schema.test.ts', // ~45
  'tests/integration/parallel-lost-source.test.ts', // ~45
  'tests/integration/safety-connections.test.ts', // ~45
  'tests/integration/deltaKeys.test.ts', // ~45
  'tests/integration/collations.test.ts', // ~30
  'tests/integration/incremental.test.ts', // ~30
  'tests/integration/queue-schedules.test.ts', // ~25
  'tests/integration/ssh-tunnel.test.ts', // ~25
  'tests/integration/sqlite-sync.test.ts', // ~25
  'tests/integration/dead-letters.test.ts', // ~25
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((path) => spec.moduleId.replaceAll('\\', '/').endsWith(path));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return sorted.map((spec, i) => ({ spec, i })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i).map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share real servers; files run in parallel, each with its own databases.
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: SlowFirst },
  },
});
