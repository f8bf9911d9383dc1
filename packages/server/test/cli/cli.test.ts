import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { configPath, readConfigFile, resolveConfig, writeConfigFile, DEFAULT_ENDPOINT } from '../../src/cli/config.ts';
import { packDirectory } from '../../src/cli/pack.ts';
import { renderTable } from '../../src/cli/output.ts';
import { readData } from '../../src/cli/commands/functions.ts';
import { parseRoute } from '../../src/cli/commands/routes.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'skyscale-cli-'));

test('config precedence: flags over environment over file; the file is written 0600', () => {
  const dir = tmp();
  const env = { XDG_CONFIG_HOME: dir } as NodeJS.ProcessEnv;
  const file = configPath(env);
  assert.equal(file, path.join(dir, 'skyscale', 'config.json'));
  assert.equal(resolveConfig({}, env, file).endpoint, DEFAULT_ENDPOINT);
  writeConfigFile({ endpoint: 'http://file:1', apiKey: 'sk_file', token: 't_file' }, file);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readConfigFile(file), { endpoint: 'http://file:1', apiKey: 'sk_file', token: 't_file' });
  assert.deepEqual(resolveConfig({}, env, file), { endpoint: 'http://file:1', apiKey: 'sk_file', token: undefined });
  const withEnv = { ...env, SKYSCALE_ENDPOINT: 'http://env:2', SKYSCALE_API_KEY: 'sk_env' };
  assert.deepEqual(resolveConfig({}, withEnv, file), { endpoint: 'http://env:2', apiKey: 'sk_env', token: undefined });
  assert.deepEqual(resolveConfig({ endpoint: 'http://flag:3', apiKey: 'sk_flag' }, withEnv, file), { endpoint: 'http://flag:3', apiKey: 'sk_flag', token: undefined });
  assert.equal(resolveConfig({}, { ...env, SKYSCALE_API_KEY: '' }, file).token, 't_file', 'an empty key falls back to the token');
  rmSync(dir, { recursive: true, force: true });
});

test('packDirectory makes a .tar.gz of the files, without .git, with nested paths', async () => {
  const dir = tmp();
  mkdirSync(path.join(dir, 'lib'));
  mkdirSync(path.join(dir, '.git'));
  writeFileSync(path.join(dir, 'index.js'), 'export const handler = () => 1;');
  writeFileSync(path.join(dir, 'lib', 'a.js'), 'a');
  writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref');
  const archive = await packDirectory(dir);
  const names: Record<string, string> = {};
  const ex = extract();
  Readable.from([gunzipSync(archive)]).pipe(ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    names[entry.header.name] = Buffer.concat(chunks).toString();
  }
  assert.deepEqual(names, { 'index.js': 'export const handler = () => 1;', 'lib/a.js': 'a' });
  rmSync(dir, { recursive: true, force: true });
});

test('--data takes JSON or @file, defaults to {} and refuses anything else', async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, 'e.json'), '{"x": 1}');
  assert.deepEqual(await readData('{"a":[1,2]}'), { a: [1, 2] });
  assert.deepEqual(await readData(`@${path.join(dir, 'e.json')}`), { x: 1 });
  assert.deepEqual(await readData(undefined), {}, 'no --data sends an empty object, not null');
  await assert.rejects(readData('{not json'), /must be JSON/);
  rmSync(dir, { recursive: true, force: true });
});

test('tables render every cell and a dash for missing values', () => {
  const text = renderTable(['name', 'version'], [['hello', 2], ['other', null]]);
  assert.match(text, /hello/);
  assert.match(text, /│ -/);
});

test('--route takes "METHOD /path [public|api_key] [http|body]"', () => {
  assert.deepEqual(parseRoute('POST /api/hello'), { method: 'POST', path: '/api/hello' });
  assert.deepEqual(parseRoute('  get   /u/:id   api_key '), { method: 'GET', path: '/u/:id', auth: 'api_key' });
  assert.deepEqual(parseRoute('POST /api/hello body'), { method: 'POST', path: '/api/hello', eventShape: 'body' });
  assert.deepEqual(parseRoute('GET /u body api_key'), { method: 'GET', path: '/u', auth: 'api_key', eventShape: 'body' });
  assert.deepEqual(parseRoute('GET /u public http'), { method: 'GET', path: '/u', auth: 'public', eventShape: 'http' });
  for (const bad of ['/api/hello', 'POST', 'FETCH /x', 'GET x', 'GET /x secret', 'GET /x public extra', 'GET /x body body', 'GET /x public api_key', 'GET /x json']) assert.throws(() => parseRoute(bad), /route/, bad);
});
