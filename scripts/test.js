// Runs every test tier with node:test. Extra arguments narrow the run, e.g. `npm test -- packages/server/test/unit`.
import { spawnSync } from 'node:child_process';
import { findExecutable, probeBwrap } from '../packages/server/src/sandbox/process/probe.ts';

// Most tiers run real sandboxes: without a working bubblewrap, stop now with what to do rather than
// let a scatter of tests fail. BWRAP_PATH (the platform's own setting) points elsewhere, e.g. to
// /nonexistent to see this.
const bwrap = process.platform === 'linux' ? findExecutable('bwrap', process.env.BWRAP_PATH || undefined) : null;
const trial = bwrap ? await probeBwrap(bwrap, null) : null;
if (!trial?.userNamespaces) {
  const install = 'Install it with `apt-get install -y bubblewrap`, then run the tests again.';
  const why = process.platform !== 'linux' ? `functions run in Linux namespaces and this is ${process.platform}: run the tests on Linux.`
    : !bwrap ? `bubblewrap (bwrap) is not installed${process.env.BWRAP_PATH ? ` at BWRAP_PATH=${process.env.BWRAP_PATH}` : ''}. ${install}`
    : `bubblewrap cannot create a sandbox here (${trial?.error}): it needs unprivileged user namespaces.`;
  console.error(`npm test: ${why}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const patterns = args.length > 0 ? args.map((a) => (a.endsWith('.ts') ? a : `${a.replace(/\/$/, '')}/**/*.test.ts`)) : ['packages/*/test/**/*.test.ts'];
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', ...patterns],
  { stdio: 'inherit', env: { ...process.env, SKYSCALE_TEST: '1' } },
);
process.exit(result.status ?? 1);
