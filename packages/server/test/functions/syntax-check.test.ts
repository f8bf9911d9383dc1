import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AppError } from '../../src/core/errors.ts';
import type { Runtime } from '../../src/core/types.ts';
import { SyntaxChecker } from '../../src/functions/syntax-check.ts';
import { isTypeScriptOnly } from '../../src/functions/syntax-js.ts';

const checker = new SyntaxChecker();
const files = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));

/** The AppError's details, or null when the code was accepted. */
async function problem(runtime: Runtime, entry: string, entries: Record<string, string>, c = checker): Promise<{ code: string; message: string; details: unknown } | null> {
  try {
    await c.check(runtime, entry, files(entries));
    return null;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    return { code: err.code, message: err.message, details: err.details };
  }
}

const hasPython = existsSync('/usr/bin/python3');
const hasPhp = existsSync('/usr/bin/php');

test('JavaScript: ES modules and CommonJS are accepted as Node would take them', async () => {
  const ok = {
    esm: 'import fs from "node:fs";\nconst data = await Promise.resolve(1);\nexport const handler = () => data;',
    cjs: 'const fs = require("fs");\nif (!fs) return;\nwith (Math) { module.exports.handler = () => PI; }',
    hashbang: '#!/usr/bin/env node\nexports.handler = () => 1;',
  };
  for (const [name, code] of Object.entries(ok)) assert.equal(await problem('node', 'index.js', { 'index.js': code }), null, name);
});

test('JavaScript: the first file that does not parse is named with its line and column (characters, 1-based)', async () => {
  const bad = await problem('node', 'index.js', { 'index.js': 'export const handler = (event) => {\n  return { é: "ü" x };\n};\n' });
  assert.equal(bad?.code, 'SYNTAX_ERROR');
  assert.deepEqual(bad?.details, { file: 'index.js', line: 2, column: 19 });
  assert.equal(bad?.message, 'index.js:2:19: Expected "}" but found "x"');
  const esmOnly = await problem('node', 'index.mjs', { 'index.mjs': 'export const a = 010;' });
  assert.match(esmOnly?.message ?? '', /^index\.mjs:1:18: Legacy octal literals/);
});

test('every source file of the language is checked, the entry first; dependencies are not', async () => {
  const lib = await problem('node', 'index.js', { 'index.js': 'export const handler = () => 1;', 'lib/b.js': 'let = ;', 'lib/a.ts': 'const x: = 1;' });
  assert.deepEqual(lib?.details, { file: 'lib/a.ts', line: 1, column: 10 });
  const entryFirst = await problem('node', 'z.js', { 'a.js': 'let = ;', 'z.js': '}' });
  assert.equal((entryFirst?.details as { file: string }).file, 'z.js');
  assert.equal(await problem('node', 'index.js', { 'index.js': 'module.exports = {};', 'node_modules/x/index.js': '<<<', 'data.txt': '<<<' }), null);
  const capped = new SyntaxChecker({ maxFiles: 1 });
  assert.equal(await problem('node', 'index.js', { 'index.js': 'module.exports = {};', 'lib.js': '<<<' }, capped), null, 'files past maxFiles are left alone');
});

test('TypeScript: parsed as TypeScript; TypeScript in a .js file is refused with a hint', async () => {
  assert.equal(await problem('node', 'index.ts', { 'index.ts': 'enum A { B }\nexport const handler = (e: { n?: string }): string => e.n ?? A[0];' }), null);
  const named = await problem('node', 'app.js', { 'app.js': 'export const handler = (e: {}) => e;' });
  assert.match(named?.message ?? '', /^app\.js:1:26: .*\(the file is TypeScript: name it \.ts\)$/);
  assert.equal(await isTypeScriptOnly('export const handler = (e: {}) => e;'), true);
  assert.equal(await isTypeScriptOnly('export const handler = (e) => e;'), false, 'JavaScript stays JavaScript');
  assert.equal(await isTypeScriptOnly('export const handler = (e: ) => e;'), false, 'broken either way');
});

test('Python: compile() names the file, line and column; a missing interpreter skips the check', { skip: !hasPython && 'no /usr/bin/python3' }, async () => {
  assert.equal(await problem('python', 'main.py', { 'main.py': 'def handler(event, context):\n    return event\n' }), null);
  const bad = await problem('python', 'main.py', { 'main.py': 'def handler(event, context):\n    return event\n', 'lib/util.py': 'x = "é" 1\n' });
  assert.equal(bad?.code, 'SYNTAX_ERROR');
  assert.deepEqual(bad?.details, { file: 'lib/util.py', line: 1, column: 9 });
  assert.equal(bad?.message, 'lib/util.py:1:9: SyntaxError: invalid syntax');
  const compiler = await problem('python', 'main.py', { 'main.py': 'return 1\n' });
  assert.match(compiler?.message ?? '', /^main\.py:1:1: SyntaxError: 'return' outside function/);
  const indent = await problem('python', 'main.py', { 'main.py': 'def handler(e, c):\nreturn 1\n' });
  assert.match(indent?.message ?? '', /^main\.py:2:\d+: IndentationError/);
  assert.equal(await problem('python', 'main.py', { 'main.py': 'def f(:\n' }, new SyntaxChecker({ pythonPath: '/nonexistent/python3' })), null);
  assert.equal(await problem('python', 'main.py', { 'main.py': 'def f(:\n' }, new SyntaxChecker({ timeoutMs: 1 })), null, 'past the deadline the code goes unchecked');
  assert.equal(await problem('python', 'main.py', { 'main.py': 'x = 1\n', '.venv/lib/x.py': 'def f(:\n', 'vendor/y.py': 'def f(:\n' }), null);
});

test('PHP: php -l names the file and line', { skip: !hasPhp && 'no /usr/bin/php' }, async () => {
  assert.equal(await problem('php', 'index.php', { 'index.php': '<?php function handler($e, $c) { return $e; }' }), null);
  const bad = await problem('php', 'index.php', { 'index.php': '<?php\nfunction handler($e, $c) {\n  return [$e\n}\n' });
  assert.equal(bad?.code, 'SYNTAX_ERROR');
  assert.deepEqual(bad?.details, { file: 'index.php', line: 4, column: null });
  assert.equal(bad?.message, "index.php:4: Parse error: Unclosed '[' on line 3 does not match '}'");
  const compiled = await problem('php', 'index.php', { 'index.php': '<?php\nfunction handler() {}\nfunction handler() {}\n' });
  assert.match(compiled?.message ?? '', /^index\.php:3: Fatal error: Cannot redeclare handler\(\)/);
});

test('command functions: the entry is checked by its extension unless its #! names another interpreter', { skip: !hasPython && 'no /usr/bin/python3' }, async () => {
  assert.equal((await problem('command', 'main.py', { 'main.py': 'print(1\n' }))?.code, 'SYNTAX_ERROR');
  assert.equal((await problem('command', 'main.py', { 'main.py': '#!/usr/bin/env python3\nprint(1\n' }))?.code, 'SYNTAX_ERROR');
  assert.equal(await problem('command', 'main.py', { 'main.py': '#!/bin/sh\necho (\n' }), null);
  assert.equal((await problem('command', 'run.js', { 'run.js': 'console.log(1' }))?.code, 'SYNTAX_ERROR');
  assert.equal(await problem('command', 'run.sh', { 'run.sh': 'echo (' }), null, 'no checker for shell');
  assert.equal(await problem('command', 'main.py', { 'main.py': 'print(1)\n', 'other.py': 'print(\n' }), null, 'only the entry of a command function');
});
