import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filesFromJson, validateRelativePath } from '../../src/functions/bundle.ts';
import { AppError } from '../../src/core/errors.ts';

const limits = { maxBytes: 1024, maxFiles: 3 };
const invalid = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof AppError && err.code === 'INVALID_BUNDLE' && re.test(err.message));

test('validateRelativePath normalises harmless spellings', () => {
  assert.equal(validateRelativePath('index.js'), 'index.js');
  assert.equal(validateRelativePath('./index.js'), 'index.js');
  assert.equal(validateRelativePath('a//b/./c.js'), 'a/b/c.js');
  assert.equal(validateRelativePath('..foo/...bar'), '..foo/...bar');
  assert.equal(validateRelativePath('caf\u0065\u0301.js'), 'caf\u00e9.js');
  assert.equal(validateRelativePath('spaces and ünïcödé/名前.py'), 'spaces and ünïcödé/名前.py');
});

test('validateRelativePath refuses what could escape or deceive', () => {
  invalid(() => validateRelativePath(''), /empty name/);
  invalid(() => validateRelativePath('.'), /empty name/);
  invalid(() => validateRelativePath('./'), /empty name/);
  invalid(() => validateRelativePath('dir/'), /ends with "\/"/);
  invalid(() => validateRelativePath('dir/.'), /ends with "\/"/);
  invalid(() => validateRelativePath('/etc/passwd'), /absolute/);
  invalid(() => validateRelativePath('//server/share'), /absolute/);
  invalid(() => validateRelativePath('C:/x'), /absolute/);
  invalid(() => validateRelativePath('c:x'), /absolute/);
  invalid(() => validateRelativePath('..'), /leaves the bundle/);
  invalid(() => validateRelativePath('../evil'), /leaves the bundle/);
  invalid(() => validateRelativePath('a/../../evil'), /leaves the bundle/);
  invalid(() => validateRelativePath('a/..'), /leaves the bundle/);
  invalid(() => validateRelativePath('a\\b'), /backslash/);
  invalid(() => validateRelativePath('..\\evil'), /backslash/);
  invalid(() => validateRelativePath('nul\u0000.js'), /control/);
  invalid(() => validateRelativePath('tab\t.js'), /control/);
  invalid(() => validateRelativePath('del\u007f.js'), /control/);
  invalid(() => validateRelativePath('c1\u0085.js'), /control/);
  invalid(() => validateRelativePath('evil\u202egnp.js'), /bidi/);
  invalid(() => validateRelativePath('lrm\u200e.js'), /bidi/);
  invalid(() => validateRelativePath('alm\u061c.js'), /bidi/);
  invalid(() => validateRelativePath('pdi\u2069.js'), /bidi/);
  invalid(() => validateRelativePath('bad\ufffd.js'), /replacement/);
  invalid(() => validateRelativePath('lone\ud800.js'), /not valid Unicode/);
  invalid(() => validateRelativePath(`${'x'.repeat(256)}.js`), /segment longer than 255 bytes/);
  invalid(() => validateRelativePath(`${'a/'.repeat(520)}x`), /longer than 1024 bytes/);
  invalid(() => validateRelativePath('abcdef', 5), /longer than 5 bytes/);
  // The error shows hidden characters instead of printing them.
  assert.throws(() => validateRelativePath('evil\u202egnp.js'), { message: 'Entry "evil\\u{202E}gnp.js" contains control, bidi or replacement characters' });
});

test('filesFromJson: utf8, base64, and the same checks as bundles', () => {
  const files = filesFromJson(
    {
      'index.js': 'exports.handler = () => 1;',
      './lib/a.js': { content: 'a', encoding: 'utf8' },
      'bin/data': { content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' },
    },
    limits,
  );
  assert.deepEqual([...files.keys()], ['index.js', 'lib/a.js', 'bin/data']);
  assert.deepEqual([...files.get('bin/data')!], [0, 1, 2, 255]);
  assert.equal(filesFromJson({ 'u.bin': { content: '-_8=', encoding: 'base64' } }, limits).get('u.bin')!.length, 2, 'base64url is fine');
  assert.equal(filesFromJson({ 'w.bin': { content: 'AAEC\n/w==', encoding: 'base64' } }, limits).get('w.bin')!.length, 4, 'line breaks are fine');

  invalid(() => filesFromJson({ '../x.js': '1' }, limits), /leaves the bundle/);
  invalid(() => filesFromJson({ 'nul\u0000.js': 'x' }, limits), /control/);
  invalid(() => filesFromJson({ 'C:/win.js': 'x' }, limits), /absolute/);
  invalid(() => filesFromJson({ 'a.js': '1', './a.js': '2' }, limits), /"a\.js" appears twice/);
  invalid(() => filesFromJson({ 'caf\u00e9.js': '1', 'caf\u0065\u0301.js': '2' }, limits), /appears twice/);
  invalid(() => filesFromJson({ a: '1', 'a/b': '2' }, limits), /inside "a"/);
  invalid(() => filesFromJson({ a: '1', b: '2', c: '3', d: '4' }, limits), /more than 3 files/);
  invalid(() => filesFromJson({ big: 'x'.repeat(1025) }, limits), /larger than 1024 bytes.*"big"/);
  invalid(() => filesFromJson({ a: 'x'.repeat(600), b: 'x'.repeat(600) }, limits), /larger than 1024 bytes/);
  invalid(() => filesFromJson({ bad: { content: 'not base64!', encoding: 'base64' } }, limits), /not valid base64/);
  invalid(() => filesFromJson({ bad: { content: 'x', encoding: 'hex' as 'utf8' } }, limits), /unknown encoding/);
  invalid(() => filesFromJson({ bad: 42 as unknown as string }, limits), /must be a string/);
  invalid(() => filesFromJson(null as unknown as Record<string, string>, limits), /must be an object/);
  assert.equal(filesFromJson({}, limits).size, 0);
});
