import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, gzipSync, crc32 } from 'node:zlib';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pack, type Header } from 'tar-stream';
import { extractBundle, filesFromJson } from '../../src/functions/bundle.ts';
import { CodeStore } from '../../src/functions/code-store.ts';
import { AppError } from '../../src/core/errors.ts';

const limits = { maxBytes: 1024 * 1024, maxFiles: 10 };

async function tarGz(entries: Array<Partial<Header> & { name: string; body?: string | Buffer }>): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of tar) chunks.push(c as Buffer);
  })();
  for (const { body, ...header } of entries) tar.entry(header as Header, body ?? '');
  tar.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** A minimal zip writer (deflate), enough to build the archives these tests need. */
function zip(entries: Array<{ name: string; body: Buffer | string; mode?: number }>): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.body);
    const compressed = deflateRawSync(data);
    const name = Buffer.from(e.name);
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0x0800, 6); lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(compressed.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(name.length, 26);
    local.push(lh, name, compressed);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE((3 << 8) | 20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(0x0800, 8); ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(compressed.length, 20); ch.writeUInt32LE(data.length, 24); ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38); ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += lh.length + name.length + compressed.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

const rejects = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (err: unknown) => err instanceof AppError && err.code === 'INVALID_BUNDLE' && re.test(err.message));

test('tar.gz and zip bundles unpack to the same file map', async () => {
  const files = { 'index.js': 'exports.handler = () => 1;', 'lib/a.js': 'a' };
  const fromTar = await extractBundle(await tarGz(Object.entries(files).map(([name, body]) => ({ name, body }))), 'tar.gz', limits);
  const fromZip = await extractBundle(zip(Object.entries(files).map(([name, body]) => ({ name, body }))), 'zip', limits);
  for (const map of [fromTar, fromZip]) assert.deepEqual(Object.fromEntries([...map].map(([k, v]) => [k, v.toString()])), files);
});

test('paths that leave the bundle or hide their meaning are refused', async () => {
  await rejects(extractBundle(await tarGz([{ name: '/etc/passwd', body: 'x' }]), 'tar.gz', limits), /absolute/);
  await rejects(extractBundle(await tarGz([{ name: '../evil', body: 'x' }]), 'tar.gz', limits), /leaves/);
  await rejects(extractBundle(await tarGz([{ name: 'a/../../evil', body: 'x' }]), 'tar.gz', limits), /leaves/);
  await rejects(extractBundle(await tarGz([{ name: 'evil\u202egnp.js', body: 'x' }]), 'tar.gz', limits), /control or bidi/);
  await rejects(extractBundle(zip([{ name: '../zip-evil', body: 'x' }]), 'zip', limits), /./);
  await rejects(extractBundle(zip([{ name: 'a\\b.js', body: 'x' }]), 'zip', limits), /./);
  assert.throws(() => filesFromJson({ 'nul\u0000.js': 'x' }, limits), AppError);
  assert.throws(() => filesFromJson({ 'C:/win.js': 'x' }, limits), AppError);
});

test('links: outside the bundle refused, inside materialised as copies', async () => {
  await rejects(extractBundle(await tarGz([{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]), 'tar.gz', limits), /outside/);
  await rejects(extractBundle(await tarGz([{ name: 'a/up', type: 'symlink', linkname: '../../x' }]), 'tar.gz', limits), /outside/);
  await rejects(extractBundle(await tarGz([{ name: 'hard', type: 'link', linkname: '../x' }]), 'tar.gz', limits), /outside/);
  await rejects(extractBundle(zip([{ name: 'ln', body: '/etc/shadow', mode: 0o120777 }]), 'zip', limits), /outside/);
  const ok = await extractBundle(await tarGz([{ name: 'real.js', body: 'content' }, { name: 'alias.js', type: 'symlink', linkname: 'real.js' }]), 'tar.gz', limits);
  assert.equal(ok.get('alias.js')?.toString(), 'content');
});

test('devices, duplicates, too many files and corrupt data are refused', async () => {
  await rejects(extractBundle(await tarGz([{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }]), 'tar.gz', limits), /not a file/);
  await rejects(extractBundle(await tarGz([{ name: 'a.js', body: '1' }, { name: './a.js', body: '2' }]), 'tar.gz', limits), /twice/);
  await rejects(extractBundle(await tarGz(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: 'x' }))), 'tar.gz', limits), /more than 10 files/);
  await rejects(extractBundle(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), 'tar.gz', limits), /corrupt/);
  await rejects(extractBundle(Buffer.from('PK\u0003\u0004garbage'), 'zip', limits), /corrupt/);
});

test('compression bombs stop at the size limit without inflating everything', async () => {
  const big = Buffer.alloc(200 * 1024 * 1024);
  const bomb = await tarGz([{ name: 'zeros', body: big }]);
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  await rejects(extractBundle(bomb, 'tar.gz', limits), /larger than/);
  assert.ok(performance.now() - t0 < 5000);
  assert.ok(process.memoryUsage().rss - before < 100 * 1024 * 1024, 'did not hold the inflated data');
  await rejects(extractBundle(zip([{ name: 'zeros', body: Buffer.alloc(20 * 1024 * 1024) }]), 'zip', limits), /larger than/);
});

test('the code store is content-addressed and atomic', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'codestore-'));
  const store = new CodeStore(root);
  const files = new Map([['index.js', Buffer.from('1')], ['lib/x.js', Buffer.from('2')]]);
  const a = await store.put(files);
  const b = await store.put(new Map([...files].reverse()));
  assert.equal(a.hash, b.hash);
  assert.equal(a.size, 2);
  assert.notEqual((await store.put(new Map([['index.js', Buffer.from('other')]]))).hash, a.hash);
  assert.deepEqual(readdirSync(root).filter((n) => n.startsWith('.tmp')), []);
  assert.deepEqual([...(await store.read(a.hash))].map(([k, v]) => [k, v.toString()]).sort(), [['index.js', '1'], ['lib/x.js', '2']]);
  assert.deepEqual([...(await store.list(a.hash))].sort(), ['index.js', 'lib/x.js']);
  assert.throws(() => store.dir('../../etc'), AppError);
  rmSync(root, { recursive: true, force: true });
});
