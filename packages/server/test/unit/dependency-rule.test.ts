import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** docs/architecture.md, "The dependency rule": which folders of src/ each folder may import from. */
const SRC = path.resolve(import.meta.dirname, '../../src');
const SERVICES = ['auth', 'functions', 'executions', 'secrets', 'objects', 'streams'];
const LEAF_TYPES = ['config/options.ts', 'sandbox/driver.ts'];
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  config: ['core', 'config'],
  store: ['core', 'store'],
  bus: ['core', 'bus'],
  sandbox: ['core', 'sandbox'],
  worker: ['core', 'worker', 'sandbox'],
  cluster: ['core', 'cluster', 'worker', 'executions', 'functions'],
  metrics: ['core', 'metrics'],
  logging: ['logging'],
  net: ['core', 'net'],
  runtimes: [],
  ...Object.fromEntries(SERVICES.map((s) => [s, ['core', ...SERVICES]])),
  api: ['core', 'api', 'net', ...SERVICES],
  gateway: ['core', 'gateway', 'net', ...SERVICES],
  cli: ['cli', 'core', 'config'],
  autoscaler: ['core', 'autoscaler'],
};

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    if (statSync(file).isDirectory()) yield* files(file);
    else if (file.endsWith('.ts')) yield file;
  }
}

/** Imports of src/ files (relative specifiers), as paths relative to src/. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) found.push(path.relative(SRC, path.resolve(path.dirname(file), match[1])));
  return found;
}

test('every import in src/ follows the dependency rule of docs/architecture.md', () => {
  const broken: string[] = [];
  for (const file of files(SRC)) {
    const from = path.relative(SRC, file);
    const folder = from.split(path.sep)[0];
    if (folder === 'main.ts' || folder === 'roles') continue;
    const allowed = ALLOWED[folder];
    assert.ok(allowed !== undefined, `${folder}/ is not in the rule: add it to docs/architecture.md and to this test`);
    for (const target of importsOf(file)) {
      const into = target.split(path.sep)[0];
      if (into === 'roles' || into === 'main.ts') broken.push(`${from} → ${target} (nothing imports roles/ or main.ts)`);
      else if (!allowed.includes(into) && !(into === 'config' && target === 'config/options.ts') && !((folder === 'core' || folder === 'config') && LEAF_TYPES.includes(target))) broken.push(`${from} → ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the rule is not vacuous: the scan sees the imports it judges', () => {
  const pool = importsOf(path.join(SRC, 'worker/instance-pool.ts'));
  assert.ok(pool.includes('core/invocation.ts') && pool.includes('sandbox/driver.ts'), pool.join(', '));
});
