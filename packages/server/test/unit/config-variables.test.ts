import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { PLATFORM_VARIABLES } from '../../src/config/variables.ts';

const README = path.resolve(import.meta.dirname, '../../../../README.md');

/** The variables loadConfig looks at, whatever their values, over environments that take each branch. */
function variablesRead(): Set<string> {
  const read = new Set<string>();
  const environments: Array<Record<string, string>> = [
    {},
    { AUTOSCALER_ACTUATOR: 'command', AUTOSCALER_COMMAND: 'true' },
    { AUTOSCALER_ACTUATOR: 'kubernetes', K8S_NAMESPACE: 'skyscale' },
    { SKYSCALE_ROLES: 'worker' },
  ];
  for (const values of environments) {
    const env = new Proxy(values, { get: (target, name) => (typeof name === 'string' ? (read.add(name), target[name]) : undefined) });
    loadConfig(env);
  }
  return read;
}

/** The names in the first column of the README's configuration table. */
function readmeTableVariables(): string[] {
  const readme = readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration') + 1));
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const firstCell = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (firstCell) for (const [, name] of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(name);
  }
  return names;
}

test('PLATFORM_VARIABLES are exactly the variables loadConfig reads', () => {
  const read = variablesRead();
  assert.deepEqual([...read].filter((name) => !PLATFORM_VARIABLES.includes(name)), [], 'read by config.ts but missing from config/variables.ts');
  assert.deepEqual(PLATFORM_VARIABLES.filter((name) => !read.has(name)), [], 'listed in config/variables.ts but never read');
  assert.equal(new Set(PLATFORM_VARIABLES).size, PLATFORM_VARIABLES.length, 'no name twice');
});

test('the README\'s configuration table documents exactly PLATFORM_VARIABLES', () => {
  const documented = readmeTableVariables();
  assert.ok(documented.length > 50, `the table was found (${documented.length} names)`);
  assert.deepEqual(PLATFORM_VARIABLES.filter((name) => !documented.includes(name)), [], 'missing from the README table');
  assert.deepEqual(documented.filter((name) => !PLATFORM_VARIABLES.includes(name)), [], 'in the README table but not read');
});
