import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CodeStore } from '../../src/functions/code-store.ts';
import { AppError } from '../../src/core/errors.ts';
import type { FileMap } from '../../src/functions/file-map.ts';

function tempRoot(t: TestContext): string {
  const root = mkdtempSync(path.join(tmpdir(), 'codestore-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}
const files = (o: Record<string, string>): FileMap => new Map(Object.entries(o).map(([k, v]) => [k, Buffer.from(v)]));
const entries = (root: string) => readdirSync(root).sort();

test('same content gives the same hash and one directory, whatever the order', async (t) => {
  const root = tempRoot(t);
  const store = new CodeStore(root);
  const a = await store.put(files({ 'index.js': '1', 'lib/x.js': '22' }));
  const b = await store.put(files({ 'lib/x.js': '22', 'index.js': '1' }));
  assert.equal(a.hash, b.hash);
  assert.match(a.hash, /^[0-9a-f]{64}$/);
  assert.equal(a.size, 3);
  assert.deepEqual(entries(root), [a.hash]);
  assert.deepEqual(CodeStore.hashOf(files({ 'index.js': '1', 'lib/x.js': '22' })), a);
});

test('different content, names or layout give different hashes', async (t) => {
  const store = new CodeStore(tempRoot(t));
  const hashes = new Set<string>();
  const variants: Array<Record<string, string>> = [{ 'index.js': '1' }, { 'index.js': '2' }, { 'main.js': '1' }, { 'a/index.js': '1' }, { 'index.js': '1', 'b.js': '' }, { 'index.js': '1', 'b.js': '\0' }];
  for (const f of variants) {
    hashes.add((await store.put(files(f))).hash);
  }
  assert.equal(hashes.size, 6);
});

test('stores a plain tree: read back equals the input; files 0644, dirs 0755 whatever the umask', async (t) => {
  const root = tempRoot(t);
  const store = new CodeStore(root);
  const input = files({ 'index.js': 'main', 'lib/deep/x.js': 'x', 'lib/y.js': 'y', 'empty.txt': '' });
  input.set('bin/blob', Buffer.from([0, 255, 10, 13]));
  const old = process.umask(0o077);
  let hash: string;
  try {
    ({ hash } = await store.put(input));
  } finally {
    process.umask(old);
  }
  const dir = store.dir(hash);
  assert.equal(dir, path.join(path.resolve(root), hash));
  assert.equal(readFileSync(path.join(dir, 'lib/deep/x.js'), 'utf8'), 'x');
  assert.equal(statSync(path.join(dir, 'index.js')).mode & 0o777, 0o644);
  assert.equal(statSync(path.join(dir, 'lib/deep')).mode & 0o777, 0o755);
  assert.equal(statSync(dir).mode & 0o777, 0o755);
  const back = await store.read(hash);
  assert.deepEqual(new Map([...back].sort()), new Map([...input].sort()));
  assert.deepEqual([...(await store.list(hash))], ['bin/blob', 'empty.txt', 'index.js', 'lib/deep/x.js', 'lib/y.js']);
  assert.equal(await store.has(hash), true);
  assert.deepEqual(await store.hashes(), [hash]);
});

test('puts are atomic: no temporary directory survives, a failed put leaves nothing', async (t) => {
  const root = tempRoot(t);
  const store = new CodeStore(root);
  const { hash } = await store.put(files({ 'index.js': '1' }));
  assert.deepEqual(entries(root), [hash]);

  // A put that throws half-way through writing: the map's second walk (the first is the path
  // check, the second writes the files) fails after one file is on disk.
  class Failing extends Map<string, Buffer> {
    walks = 0;
    override *entries(): MapIterator<[string, Buffer]> {
      const walk = ++this.walks;
      let n = 0;
      for (const e of super.entries()) {
        if (walk === 2 && n++ === 1) throw new Error('disk on fire');
        yield e;
      }
    }
    override [Symbol.iterator](): MapIterator<[string, Buffer]> {
      return this.entries();
    }
  }
  const failing = new Failing([['a.js', Buffer.from('a')], ['b/c.js', Buffer.from('c')], ['d.js', Buffer.from('d')]]);
  await assert.rejects(store.put(failing), /disk on fire/);
  assert.equal(failing.walks, 2, 'failed while writing');
  assert.deepEqual(entries(root), [hash]);
  assert.equal(await store.has(CodeStore.hashOf(failing).hash), false);

  // Bad trees are refused before anything is written.
  await assert.rejects(store.put(new Map([['../evil', Buffer.from('x')]])), (e: unknown) => e instanceof AppError && e.code === 'INVALID_BUNDLE');
  await assert.rejects(store.put(new Map([['./x', Buffer.from('x')]])), /not a normalised path/);
  await assert.rejects(store.put(new Map([['a', Buffer.from('x')], ['a/b', Buffer.from('y')]])), /both a file and a directory/);
  assert.deepEqual(entries(root), [hash]);
});

test('concurrent puts of the same content agree on one directory', async (t) => {
  const root = tempRoot(t);
  const store = new CodeStore(root);
  const input = files(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f/${i}.js`, String(i)])));
  const results = await Promise.all(Array.from({ length: 8 }, () => new CodeStore(root).put(input)));
  assert.equal(new Set(results.map((r) => r.hash)).size, 1);
  assert.deepEqual(entries(root), [results[0].hash]);
  assert.equal((await store.read(results[0].hash)).size, 50);
});

test('hashes are checked before they touch a path', async (t) => {
  const store = new CodeStore(tempRoot(t));
  for (const bad of ['../../etc', '', 'A'.repeat(64), `${'a'.repeat(63)}/`, `${'a'.repeat(64)}/..`]) {
    assert.throws(() => store.dir(bad), (e: unknown) => e instanceof AppError && e.code === 'INVALID_ID');
    assert.equal(await store.has(bad), false);
    await assert.rejects(store.read(bad), AppError);
    await assert.rejects(store.remove(bad), AppError);
  }
  await assert.rejects(store.read('a'.repeat(64)), (e: unknown) => e instanceof AppError && e.code === 'NOT_FOUND');
});

test('remove deletes a tree at once and is idempotent; stale temporaries are swept', async (t) => {
  const root = tempRoot(t);
  const store = new CodeStore(root);
  const { hash } = await store.put(files({ 'index.js': '1' }));
  await store.remove(hash);
  assert.equal(await store.has(hash), false);
  await store.remove(hash);
  assert.deepEqual(entries(root), []);
  // A store can be put into again after a remove.
  assert.equal((await store.put(files({ 'index.js': '1' }))).hash, hash);
  assert.equal(await store.has(hash), true);

  mkdirSync(path.join(root, '.tmp-old'));
  mkdirSync(path.join(root, '.trash-old'));
  mkdirSync(path.join(root, '.tmp-fresh'));
  const past = new Date(Date.now() - 2 * 60 * 60 * 1000);
  utimesSync(path.join(root, '.tmp-old'), past, past);
  utimesSync(path.join(root, '.trash-old'), past, past);
  assert.equal(await store.removeStaleTemp(), 2);
  assert.deepEqual(entries(root), ['.tmp-fresh', hash]);
  assert.equal(await new CodeStore(path.join(root, 'missing')).removeStaleTemp(), 0);
  assert.deepEqual(await new CodeStore(path.join(root, 'missing')).hashes(), []);
  assert.equal(existsSync(path.join(root, 'missing')), false);
});
