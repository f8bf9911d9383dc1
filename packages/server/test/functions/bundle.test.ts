import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeflateRaw, createGzip, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pack, type Header } from 'tar-stream';
import { extractBundle, unwrapSingleDirectory } from '../../src/functions/bundle.ts';
import { AppError } from '../../src/core/errors.ts';

const limits = { maxBytes: 1024 * 1024, maxFiles: 10 };

// ---------------------------------------------------------------------------------------------
// Archive builders
// ---------------------------------------------------------------------------------------------

/** A tar built by tar-stream, the way a well-behaved client would. */
async function packTar(entries: Array<Partial<Header> & { name: string; body?: string | Buffer }>): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of tar) chunks.push(c as Buffer);
  })();
  for (const { body, ...header } of entries) tar.entry(header as Header, body ?? '');
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

interface RawEntry {
  name: string;
  /** The typeflag character: '0' file, '1' hardlink, '2' symlink, '3' char dev, '4' block dev, '5' dir, '6' fifo, 'x' pax… */
  type?: string;
  body?: string | Buffer;
  linkname?: string;
  /** Records of a pax extended header put before this entry (e.g. { path: '…' }). */
  pax?: Record<string, string>;
  /** Size written in the header, when it should differ from the body's. */
  size?: number;
}

/** One ustar header block, written by hand so that tests can say things tar-stream would refuse to. */
function tarHeader(name: string, type: string, size: number, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function rawTar(entries: RawEntry[], { end = true } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const pax = Buffer.from(Object.entries(e.pax).map(([k, v]) => paxRecord(k, v)).join(''));
      parts.push(tarHeader('PaxHeader', 'x', pax.length), pax, pad(pax.length));
    }
    const body = Buffer.from(e.body ?? '');
    parts.push(tarHeader(e.name, e.type ?? '0', e.size ?? body.length, e.linkname), body, pad(body.length));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const tgz = (entries: RawEntry[]) => gzipSync(rawTar(entries));

interface ZipEntry {
  name: string | Buffer;
  body?: string | Buffer;
  /** Unix mode (type and permission bits) for the external attributes. */
  mode?: number;
  /** "Version made by" host: 3 Unix (default), 0 MS-DOS. */
  host?: number;
  /** DOS attribute byte (low byte of external attributes). */
  dosAttributes?: number;
  method?: 0 | 8 | 12;
  flags?: number;
  /** Overrides, to tell lies. */
  uncompressedSize?: number;
  crc?: number;
  compressed?: Buffer;
  extra?: Buffer;
  /** Reuse the local header + data of an earlier entry (index): overlapping entries. */
  sameDataAs?: number;
}

/** A minimal zip writer: local headers, central directory, end record. */
function zip(entries: ZipEntry[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.from(e.body ?? '');
    const method = e.method ?? 8;
    const compressed = e.compressed ?? (method === 8 ? deflateRawSync(data) : data);
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
    const extra = e.extra ?? Buffer.alloc(0);
    const crc = e.crc ?? crc32(data);
    const size = e.uncompressedSize ?? data.length;
    const flags = e.flags ?? 0x0800;
    let at = offset;
    if (e.sameDataAs !== undefined) at = offsets[e.sameDataAs];
    else {
      const lh = Buffer.alloc(30);
      lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(flags, 6); lh.writeUInt16LE(method, 8);
      lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(compressed.length, 18); lh.writeUInt32LE(size, 22);
      lh.writeUInt16LE(name.length, 26); lh.writeUInt16LE(extra.length, 28);
      local.push(lh, name, extra, compressed);
      offset += lh.length + name.length + extra.length + compressed.length;
    }
    offsets.push(at);
    const host = e.host ?? 3;
    const attrs = ((((e.mode ?? 0o100644) << 16) >>> 0) | (e.dosAttributes ?? 0)) >>> 0;
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE((host << 8) | 20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(flags, 8); ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(compressed.length, 20); ch.writeUInt32LE(size, 24);
    ch.writeUInt16LE(name.length, 28); ch.writeUInt16LE(extra.length, 30);
    ch.writeUInt32LE(host === 3 ? attrs : (e.dosAttributes ?? 0), 38); ch.writeUInt32LE(at, 42);
    central.push(ch, name, extra);
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

/** Compresses `total` zero bytes (after `head`) without ever holding them: bombs stay cheap to build. */
async function compressZeros(kind: 'gzip' | 'deflate-raw', head: Buffer, total: number, tail = Buffer.alloc(0)): Promise<Buffer> {
  const z = kind === 'gzip' ? createGzip({ level: 1 }) : createDeflateRaw({ level: 1 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const finished = new Promise((resolve, reject) => z.on('end', resolve).on('error', reject));
  const chunk = Buffer.alloc(1024 * 1024);
  z.write(head);
  for (let left = total; left > 0; left -= chunk.length) {
    if (!z.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => z.once('drain', r));
  }
  z.end(tail);
  await finished;
  return Buffer.concat(out);
}

// ---------------------------------------------------------------------------------------------

const rejects = (p: Promise<unknown>, re: RegExp) =>
  assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_BUNDLE');
    assert.match(err.message, re);
    return true;
  });
const text = (map: Map<string, Buffer>) => Object.fromEntries([...map].map(([k, v]) => [k, v.toString()]));

// ---------------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------------

test('tar.gz, plain tar and zip bundles unpack to the same file map', async () => {
  const files = { 'index.js': 'exports.handler = () => 1;', 'lib/a.js': 'a', 'lib/deep/b.json': '{}', 'empty.txt': '' };
  const list = Object.entries(files).map(([name, body]) => ({ name, body }));
  const tar = await packTar([{ name: 'lib/', type: 'directory' }, ...list]);
  assert.deepEqual(text(await extractBundle(gzipSync(tar), 'tar.gz', limits)), files);
  assert.deepEqual(text(await extractBundle(tar, 'tar.gz', limits)), files, 'a plain tar is accepted too');
  assert.deepEqual(text(await extractBundle(zip([{ name: 'lib/', mode: 0o40755 }, ...list]), 'zip', limits)), files);
  assert.deepEqual(text(await extractBundle(zip(list.map((e) => ({ ...e, method: 0 as const }))), 'zip', limits)), files, 'stored entries');
});

test('names are normalised; empty directories are dropped; unicode and long names survive', async () => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(200)}.js`;
  const map = await extractBundle(
    gzipSync(await packTar([
      { name: './', type: 'directory' },
      { name: './index.js', body: '1' },
      { name: 'a//b/./c.js', body: '2' },
      { name: 'empty/', type: 'directory' },
      { name: 'caf\u0065\u0301.js', body: '3' }, // NFD on the way in
      { name: long, body: '4' },
    ])),
    'tar.gz',
    limits,
  );
  assert.deepEqual([...map.keys()], ['index.js', 'a/b/c.js', 'caf\u00e9.js', long]);
});

test('a tar made by GNU tar and a zip made by Info-ZIP, with links inside, unpack as copies', { skip: !hasTools('tar', 'zip') }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bundle-src-'));
  try {
    mkdirSync(path.join(dir, 'src/lib'), { recursive: true });
    writeFileSync(path.join(dir, 'src/index.js'), 'main');
    writeFileSync(path.join(dir, 'src/lib/util.js'), 'util');
    symlinkSync('lib/util.js', path.join(dir, 'src/alias.js'));
    mkdirSync(path.join(dir, 'src/empty'));
    const tarGz = path.join(dir, 'out.tgz');
    execFileSync('tar', ['-czf', tarGz, '-C', path.join(dir, 'src'), '.']);
    const fromTar = await extractBundle(readFileSync(tarGz), 'tar.gz', limits);
    assert.deepEqual(text(fromTar), { 'index.js': 'main', 'lib/util.js': 'util', 'alias.js': 'util' });

    const zipFile = path.join(dir, 'out.zip');
    execFileSync('zip', ['-q', '-r', '-y', zipFile, '.'], { cwd: path.join(dir, 'src') });
    const fromZip = await extractBundle(readFileSync(zipFile), 'zip', limits);
    assert.deepEqual(text(fromZip), { 'index.js': 'main', 'lib/util.js': 'util', 'alias.js': 'util' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('links inside the bundle: chains and hardlinks become copies; dir links, dangling links and loops are refused', async () => {
  const ok = await extractBundle(
    tgz([
      { name: 'alias2.js', type: '2', linkname: 'alias.js' }, // a chain, listed before the link it goes through
      { name: 'real.js', body: 'content' },
      { name: 'sub/alias.js', type: '2', linkname: '../real.js' },
      { name: 'alias.js', type: '2', linkname: './sub/alias.js' },
      { name: 'hard.js', type: '1', linkname: 'real.js' },
    ]),
    'tar.gz',
    limits,
  );
  assert.deepEqual(text(ok), { 'real.js': 'content', 'alias2.js': 'content', 'sub/alias.js': 'content', 'alias.js': 'content', 'hard.js': 'content' });
  await rejects(extractBundle(tgz([{ name: 'src/a.js', body: '1' }, { name: 'lib', type: '2', linkname: 'src' }]), 'tar.gz', limits), /"lib" points at the directory "src"/);
  await rejects(extractBundle(tgz([{ name: 'root', type: '2', linkname: '.' }]), 'tar.gz', limits), /bundle root/);
  await rejects(extractBundle(tgz([{ name: 'gone.js', type: '2', linkname: 'missing.js' }]), 'tar.gz', limits), /not a file in the bundle/);
  await rejects(extractBundle(tgz([{ name: 'a', type: '2', linkname: 'b' }, { name: 'b', type: '2', linkname: 'a' }]), 'tar.gz', limits), /loop/);
  await rejects(extractBundle(tgz([{ name: 'self', type: '2', linkname: './self' }]), 'tar.gz', limits), /itself/);
  // Copies count against the limits.
  const big = 'x'.repeat(600 * 1024);
  await rejects(extractBundle(tgz([{ name: 'big', body: big }, { name: 'copy', type: '2', linkname: 'big' }]), 'tar.gz', limits), /larger than 1048576 bytes.*"copy"/);
});

test('unwrapSingleDirectory strips one common top-level directory, and only that', () => {
  const m = (...names: string[]) => new Map(names.map((n) => [n, Buffer.from(n)]));
  assert.deepEqual([...unwrapSingleDirectory(m('repo-main/index.js', 'repo-main/lib/a.js')).keys()], ['index.js', 'lib/a.js']);
  const flat = m('index.js', 'lib/a.js');
  assert.equal(unwrapSingleDirectory(flat), flat);
  const two = m('a/x.js', 'b/y.js');
  assert.equal(unwrapSingleDirectory(two), two);
  assert.equal(unwrapSingleDirectory(m()).size, 0);
});

// ---------------------------------------------------------------------------------------------
// Hostile paths
// ---------------------------------------------------------------------------------------------

test('tar paths that leave the bundle or hide their meaning are refused', async () => {
  const bad = async (name: string, re: RegExp) => rejects(extractBundle(tgz([{ name, body: 'x' }]), 'tar.gz', limits), re);
  await bad('/etc/passwd', /"\/etc\/passwd" is an absolute path/);
  await bad('../evil', /"\.\.\/evil" leaves the bundle/);
  await bad('a/../../evil', /leaves the bundle/);
  await bad('a/../b.js', /leaves the bundle/); // any '..' at all
  await bad('C:/win.js', /absolute/);
  await bad('a\\..\\..\\evil', /backslash/);
  await bad('evil\u202egnp.js', /"evil\\u\{202E\}gnp\.js" contains control, bidi/);
  await bad('bell\u0007.js', /control/);
  await bad('csi\u009b.js', /control/);
  await bad('\u2066isolate.js', /bidi/);
  // Names only a pax header can carry: NUL, newline, and '..' hiding behind a harmless ustar name.
  const paxBad = async (p: string, re: RegExp) => rejects(extractBundle(tgz([{ name: 'harmless.js', pax: { path: p }, body: 'x' }]), 'tar.gz', limits), re);
  await paxBad('nul\u0000.js', /control/);
  await paxBad('new\nline.js', /control/);
  await paxBad('../../etc/cron.d/x', /leaves the bundle/);
  await paxBad('/abs.js', /absolute/);
  await paxBad(`${'p/'.repeat(600)}x.js`, /path longer than 1024 bytes/);
  await paxBad(`${'s'.repeat(256)}/x.js`, /segment longer than 255 bytes/);
  await paxBad(`${'\u00e9'.repeat(128)}.js`, /segment longer than 255 bytes/); // 128 characters, 258 bytes
  // Invalid UTF-8 in a name becomes U+FFFD: refused rather than stored under a guessed name.
  const latin1 = tarHeader('x', '0', 0);
  latin1.write('caf\xe9.js\0', 0, 'latin1');
  let sum = 0;
  latin1.write('        ', 148, 'latin1');
  for (const b of latin1) sum += b;
  latin1.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await rejects(extractBundle(gzipSync(Buffer.concat([latin1, Buffer.alloc(1024)])), 'tar.gz', limits), /replacement/);
  // The limit on path length is configurable.
  await rejects(extractBundle(tgz([{ name: 'abcdef.js', body: '' }]), 'tar.gz', { ...limits, maxPathLength: 5 }), /longer than 5 bytes/);
});

test('tar links that leave the bundle are refused, whatever the order', async () => {
  await rejects(extractBundle(tgz([{ name: 'passwd', type: '2', linkname: '/etc/passwd' }]), 'tar.gz', limits), /Symlink "passwd" points outside the bundle \(absolute/);
  await rejects(extractBundle(tgz([{ name: 'out', type: '2', linkname: '../outside' }]), 'tar.gz', limits), /Symlink "out" points outside/);
  await rejects(extractBundle(tgz([{ name: 'a/b/up', type: '2', linkname: '../../../x' }]), 'tar.gz', limits), /points outside/);
  await rejects(extractBundle(tgz([{ name: 'a/up', type: '2', linkname: '../a/../../a/x' }]), 'tar.gz', limits), /points outside/);
  await rejects(extractBundle(tgz([{ name: 'bs', type: '2', linkname: '..\\..\\etc\\passwd' }]), 'tar.gz', limits), /invalid target.*backslash/);
  await rejects(extractBundle(tgz([{ name: 'hard', type: '1', linkname: '../x' }]), 'tar.gz', limits), /Hardlink "hard" points outside/);
  await rejects(extractBundle(tgz([{ name: 'hard', type: '1', linkname: '/etc/shadow' }]), 'tar.gz', limits), /Hardlink "hard" points outside/);
  await rejects(extractBundle(tgz([{ name: 'empty', type: '2', linkname: '' }]), 'tar.gz', limits), /empty target/);
  // The classic: a symlink to a directory outside, then a file written "through" it.
  await rejects(extractBundle(tgz([{ name: 'lib', type: '2', linkname: '/etc' }, { name: 'lib/cron', body: 'x' }]), 'tar.gz', limits), /outside/);
  // …and the same with an innocent-looking target: the file under a link is refused before the link is judged.
  await rejects(extractBundle(tgz([{ name: 'd/x', body: '1' }, { name: 'lib', type: '2', linkname: 'd' }, { name: 'lib/y', body: 'x' }]), 'tar.gz', limits), /"lib\/y" is inside "lib", which is a file or a link/);
  // A link's own name is checked like any other.
  await rejects(extractBundle(tgz([{ name: '../ln', type: '2', linkname: 'a' }]), 'tar.gz', limits), /leaves the bundle/);
});

test('device, fifo and unknown tar entries are refused', async () => {
  await rejects(extractBundle(tgz([{ name: 'null', type: '3' }]), 'tar.gz', limits), /"null" is a character-device/);
  await rejects(extractBundle(tgz([{ name: 'sda', type: '4' }]), 'tar.gz', limits), /"sda" is a block-device/);
  await rejects(extractBundle(tgz([{ name: 'pipe', type: '6' }]), 'tar.gz', limits), /"pipe" is a fifo/);
  await rejects(extractBundle(tgz([{ name: 'sparse', type: 'S' }]), 'tar.gz', limits), /"sparse" is a special file/);
  await rejects(extractBundle(gzipSync(await packTar([{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }])), 'tar.gz', limits), /character-device/);
});

test('duplicates, file/directory clashes and too many files are refused', async () => {
  await rejects(extractBundle(tgz([{ name: 'a.js', body: '1' }, { name: './a.js', body: '2' }]), 'tar.gz', limits), /"a\.js" appears twice/);
  await rejects(extractBundle(tgz([{ name: 'caf\u00e9.js', body: '1' }, { name: 'caf\u0065\u0301.js', body: '2' }]), 'tar.gz', limits), /appears twice/);
  await rejects(extractBundle(tgz([{ name: 'a.js', body: '1' }, { name: 'a.js', type: '2', linkname: 'b' }]), 'tar.gz', limits), /appears twice/);
  await rejects(extractBundle(tgz([{ name: 'a', body: '1' }, { name: 'a/b', body: '2' }]), 'tar.gz', limits), /inside "a", which is a file/);
  await rejects(extractBundle(tgz([{ name: 'a/b', body: '1' }, { name: 'a', body: '2' }]), 'tar.gz', limits), /"a" is both a file and a directory/);
  await rejects(extractBundle(tgz([{ name: 'a', body: '1' }, { name: 'a/', type: '5' }]), 'tar.gz', limits), /is a directory, but "a" is a file/);
  const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: 'x' }));
  await rejects(extractBundle(tgz(eleven), 'tar.gz', limits), /more than 10 files \(at entry "f10"\)/);
  await rejects(extractBundle(zip(eleven), 'zip', limits), /more than 10 files/);
  await rejects(extractBundle(zip([{ name: 'a.js', body: '1' }, { name: 'a.js', body: '2' }]), 'zip', limits), /appears twice/);
  // Links count as files.
  const links = Array.from({ length: 10 }, (_, i) => ({ name: `l${i}`, type: '2', linkname: 'f' }));
  await rejects(extractBundle(tgz([{ name: 'f', body: 'x' }, ...links]), 'tar.gz', limits), /more than 10 files/);
});

test('corrupt or unrecognised archives are INVALID_BUNDLE, never a crash', async () => {
  const good = tgz([{ name: 'index.js', body: 'x'.repeat(5000) }]);
  await rejects(extractBundle(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), 'tar.gz', limits), /corrupt/);
  await rejects(extractBundle(good.subarray(0, good.length - 30), 'tar.gz', limits), /corrupt/);
  await rejects(extractBundle(gzipSync(Buffer.from('this is not a tar archive'.repeat(40))), 'tar.gz', limits), /corrupt.*tar header/);
  await rejects(extractBundle(gzipSync(rawTar([{ name: 'a.js', body: 'x'.repeat(2000) }], { end: false }).subarray(0, 1200)), 'tar.gz', limits), /corrupt.*after entry "a\.js"/);
  const badSum = rawTar([{ name: 'a.js', body: 'x' }]);
  badSum[0] = 0x62;
  await rejects(extractBundle(gzipSync(badSum), 'tar.gz', limits), /corrupt/);
  await rejects(extractBundle(Buffer.from('plain text, not an archive'), 'tar.gz', limits), /neither/);
  await rejects(extractBundle(Buffer.alloc(0), 'tar.gz', limits), /empty/);
  await rejects(extractBundle(Buffer.from('x'), 'rar' as 'zip', limits), /\.tar\.gz or a \.zip/);

  await rejects(extractBundle(Buffer.from('PK\u0003\u0004garbage'), 'zip', limits), /corrupt/);
  const z = zip([{ name: 'a.js', body: 'hello world '.repeat(100) }]);
  await rejects(extractBundle(z.subarray(0, z.length - 10), 'zip', limits), /corrupt/);
  const flipped = Buffer.from(z);
  flipped[40] ^= 0xff; // inside the deflate stream
  await rejects(extractBundle(flipped, 'zip', limits), /corrupt|CRC/);
  await rejects(extractBundle(zip([{ name: 'a.js', body: 'hello', crc: 1234 }]), 'zip', limits), /"a\.js" fails its CRC check/);
  await rejects(extractBundle(zip([{ name: 'a.js', body: 'hello', method: 12 }]), 'zip', limits), /compression method 12/);
  await rejects(extractBundle(zip([{ name: 'a.js', body: 'hello', flags: 0x0801 }]), 'zip', limits), /encrypted/);
  // An empty archive is valid and empty (the caller decides that no code is an error).
  assert.equal((await extractBundle(tgz([]), 'tar.gz', limits)).size, 0);
});

// ---------------------------------------------------------------------------------------------
// Zip specifics
// ---------------------------------------------------------------------------------------------

test('zip paths and entry types are checked like tar ones', async () => {
  const bad = (e: ZipEntry, re: RegExp) => rejects(extractBundle(zip([e]), 'zip', limits), re);
  await bad({ name: '../zip-evil', body: 'x' }, /leaves the bundle/);
  await bad({ name: 'a/../../zip-evil', body: 'x' }, /leaves the bundle/);
  await bad({ name: '/etc/x', body: 'x' }, /absolute/);
  await bad({ name: 'a\\b.js', body: 'x' }, /backslash/); // yauzl would have turned this into a/b.js
  await bad({ name: '..\\..\\evil.js', body: 'x', host: 0 }, /backslash/);
  await bad({ name: Buffer.from('nul\0.js'), body: 'x' }, /control/);
  await bad({ name: 'rtl\u202Etxt.exe', body: 'x' }, /bidi/);
  await bad({ name: 'ln', body: '/etc/shadow', mode: 0o120777 }, /Symlink "ln" points outside the bundle/);
  await bad({ name: 'ln', body: '../../x', mode: 0o120777 }, /points outside/);
  await bad({ name: 'ln', body: 'x'.repeat(5000), mode: 0o120777 }, /target longer than 4096/);
  await bad({ name: 'null', mode: 0o020666 }, /"null" is a character device/);
  await bad({ name: 'fifo', mode: 0o010644 }, /"fifo" is a fifo/);
  await bad({ name: 'sock', mode: 0o140755 }, /socket/);
  // The Info-ZIP Unicode Path field overrides the plain name: it is the one that gets checked.
  const plain = Buffer.from('innocent.js');
  const unicodeName = Buffer.from('../../evil.js');
  const field = Buffer.alloc(4 + 5 + unicodeName.length);
  field.writeUInt16LE(0x7075, 0); field.writeUInt16LE(5 + unicodeName.length, 2); field.writeUInt8(1, 4); field.writeUInt32LE(crc32(plain), 5); unicodeName.copy(field, 9);
  await bad({ name: plain, body: 'x', extra: field, flags: 0 }, /leaves the bundle/);
});

test('zip: links inside become copies, directories and __MACOSX are dropped, DOS zips work', async () => {
  const map = await extractBundle(
    zip([
      { name: 'src/', mode: 0o40755 },
      { name: 'src/index.js', body: 'main' },
      { name: 'alias.js', body: 'src/index.js', mode: 0o120777 },
      { name: '__MACOSX/src/._index.js', body: 'junk' },
      { name: 'dos/', host: 0, dosAttributes: 0x10 },
      { name: 'dos/file.txt', host: 0, dosAttributes: 0x20, body: 'dos' },
    ]),
    'zip',
    limits,
  );
  assert.deepEqual(text(map), { 'src/index.js': 'main', 'alias.js': 'main', 'dos/file.txt': 'dos' });
});

// ---------------------------------------------------------------------------------------------
// Bombs: stopped early, with little memory. Each bomb ends in corrupt data: had it been inflated
// to the end, the error would say "corrupt", not "larger than".
// ---------------------------------------------------------------------------------------------

async function measure<T>(fn: () => Promise<T>): Promise<{ ms: number; rssGrowth: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms: performance.now() - t0, rssGrowth: peak - before };
}

const MB = 1024 * 1024;

test('gzip bomb: 200 MB of zeros in one file is refused from its header, without inflating', async () => {
  const bomb = await compressZeros('gzip', tarHeader('zeros', '0', 200 * MB), 200 * MB, Buffer.from('trailing garbage'));
  assert.ok(bomb.length < 2 * MB, `the bomb is small (${bomb.length} bytes)`);
  const { ms, rssGrowth } = await measure(() => rejects(extractBundle(bomb, 'tar.gz', limits), /larger than 1048576 bytes uncompressed \(at entry "zeros"\)/));
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.ok(rssGrowth < 64 * MB, `grew ${rssGrowth} bytes`);
});

test('gzip bomb: many files under the limit each stop at the total, while streaming', async () => {
  // 400 × 512 KiB = 200 MB of zeros, every header honest; the stream is cut after ~1 MiB.
  // Built as a stream, without holding the 200 MB.
  const z = createGzip({ level: 1 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise((r) => z.on('end', r));
  for (let i = 0; i < 400; i++) {
    z.write(tarHeader(`f${i}`, '0', 512 * 1024));
    if (!z.write(Buffer.alloc(512 * 1024))) await new Promise((r) => z.once('drain', r));
  }
  z.end(Buffer.from('corrupt tail'));
  await ended;
  const bomb = Buffer.concat(out);
  assert.ok(bomb.length < 2 * MB);
  const { ms, rssGrowth } = await measure(() => rejects(extractBundle(bomb, 'tar.gz', { maxBytes: MB, maxFiles: 1000 }), /larger than 1048576 bytes uncompressed \(at entry "f2"\)/));
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.ok(rssGrowth < 64 * MB, `grew ${rssGrowth} bytes`);
});

test('gzip bomb: 200 MB of zeros after the end of the tar stops at the raw-data limit', async () => {
  const bomb = await compressZeros('gzip', rawTar([{ name: 'index.js', body: 'x' }]), 200 * MB, Buffer.from('corrupt tail'));
  const { ms, rssGrowth } = await measure(() => rejects(extractBundle(bomb, 'tar.gz', limits), /inflates to more than \d+ bytes of tar data/));
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.ok(rssGrowth < 64 * MB, `grew ${rssGrowth} bytes`);
  // Huge pax headers (tar-stream buffers them whole) are bounded the same way.
  const paxBomb = rawTar(Array.from({ length: 2 }, (_, i) => ({ name: `p${i}/`, pax: { comment: 'c'.repeat(3 * MB) }, type: '5' })));
  await rejects(extractBundle(gzipSync(paxBomb, { level: 1 }), 'tar.gz', limits), /inflates to more than/);
});

test('zip bombs: honest big sizes refused up front, lying sizes and overlapping entries stopped while inflating', async () => {
  const zeros = await compressZeros('deflate-raw', Buffer.alloc(0), 200 * MB);
  const crc = await (async () => {
    let c = 0;
    const chunk = Buffer.alloc(MB);
    for (let i = 0; i < 200; i++) c = crc32(chunk, c);
    return c;
  })();
  // Declared honestly: refused from the central directory, nothing inflated.
  const honest = zip([{ name: 'zeros', compressed: zeros, uncompressedSize: 200 * MB, crc }]);
  let r = await measure(() => rejects(extractBundle(honest, 'zip', limits), /larger than 1048576 bytes uncompressed \(at entry "zeros"\)/));
  assert.ok(r.ms < 2000 && r.rssGrowth < 64 * MB, JSON.stringify(r));
  // Declared as 100 bytes: the inflater is stopped as soon as it goes past that.
  const liar = zip([{ name: 'zeros', compressed: zeros, uncompressedSize: 100, crc }]);
  r = await measure(() => rejects(extractBundle(liar, 'zip', limits), /corrupt.*"zeros"|larger than/));
  assert.ok(r.ms < 2000 && r.rssGrowth < 64 * MB, JSON.stringify(r));
  // Declared as 1 MiB (within the limit), really 200 MB: stopped by the running count.
  const underLimit = zip([{ name: 'zeros', compressed: zeros, uncompressedSize: MB - 10, crc }]);
  r = await measure(() => rejects(extractBundle(underLimit, 'zip', limits), /corrupt.*"zeros"|larger than/));
  assert.ok(r.ms < 2000 && r.rssGrowth < 64 * MB, JSON.stringify(r));
  // Overlapping entries: many central records share one 512 KiB local entry.
  const half = Buffer.alloc(512 * 1024);
  const overlap = zip([{ name: 'f0', body: half }, ...Array.from({ length: 300 }, (_, i) => ({ name: `f${i + 1}`, body: half, sameDataAs: 0 }))]);
  r = await measure(() => rejects(extractBundle(overlap, 'zip', { maxBytes: MB, maxFiles: 1000 }), /larger than 1048576 bytes uncompressed \(at entry "f2"\)/));
  assert.ok(r.ms < 2000 && r.rssGrowth < 64 * MB, JSON.stringify(r));
});

test('extracting leaves no unhandled errors behind (many failures in a row)', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  try {
    const inputs: Array<[Buffer, 'tar.gz' | 'zip']> = [
      [Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]), 'tar.gz'],
      [tgz([{ name: '../x', body: 'x' }]), 'tar.gz'],
      [tgz([{ name: 'a', body: 'x'.repeat(2 * MB) }]), 'tar.gz'],
      [Buffer.from('PK\u0005\u0006'), 'zip'],
      [zip([{ name: '../x', body: 'x' }]), 'zip'],
    ];
    for (let i = 0; i < 20; i++) {
      await Promise.all(inputs.map(([data, kind]) => extractBundle(data, kind, limits).then(() => assert.fail('accepted'), (e: unknown) => assert.ok(e instanceof AppError))));
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  }
});

function hasTools(...tools: string[]): boolean {
  try {
    for (const t of tools) execFileSync('which', [t], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
