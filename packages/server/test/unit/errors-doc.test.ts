import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../src/core/errors.ts';

const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

test('docs/errors.md lists every error code with its status, and nothing else', () => {
  const documented = new Map<string, number>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1], Number(m[2]));
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    assert.equal(documented.get(code), status, `docs/errors.md must list \`${code}\` with status ${status}`);
  }
  for (const code of documented.keys()) assert.ok(code in ERROR_CODES, `docs/errors.md lists ${code}, which the registry does not have`);
});
