import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { prepareWorkDir, workDirCandidates } from '../../src/sandbox/process/work-dir.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'skyscale-work-dir-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('the default work dir names nothing of the host as root; SANDBOX_DIR replaces it', () => {
  const uid = process.getuid?.() ?? 0;
  const tmp = path.join(os.tmpdir(), `skyscale-sandboxes-${uid}`);
  assert.deepEqual(workDirCandidates(undefined), uid === 0 ? ['/var/lib/skyscale-sandboxes', tmp] : [tmp]);
  assert.deepEqual(workDirCandidates('relative/dir'), [path.resolve('relative/dir')]);
});

test('a candidate that cannot be made falls back to the next, with a warning; the last one failing throws', () => {
  const file = path.join(scratch, 'a-file');
  writeFileSync(file, '');
  const blocked = path.join(file, 'sandboxes');
  const fallback = path.join(scratch, 'fallback');
  const warnings: string[] = [];
  assert.equal(prepareWorkDir([blocked, fallback], warnings), fallback);
  assert.equal(statSync(fallback).mode & 0o777, 0o711);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, new RegExp(`${blocked} cannot be created .*ENOTDIR.*sandboxes use ${fallback}.*SANDBOX_DIR`));
  const none: string[] = [];
  assert.equal(prepareWorkDir([fallback], none), fallback);
  assert.deepEqual(none, [], 'the first candidate made: no warning');
  assert.throws(() => prepareWorkDir([blocked], []), /ENOTDIR/);
});
