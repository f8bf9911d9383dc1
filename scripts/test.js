// Runs every test tier with node:test. Extra arguments narrow the run, e.g. `npm test -- packages/server/test/unit`.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const patterns = args.length > 0 ? args.map((a) => (a.endsWith('.ts') ? a : `${a.replace(/\/$/, '')}/**/*.test.ts`)) : ['packages/*/test/**/*.test.ts'];
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', ...patterns],
  { stdio: 'inherit', env: { ...process.env, SKYSCALE_TEST: '1' } },
);
process.exit(result.status ?? 1);
