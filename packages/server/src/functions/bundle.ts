import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { extract as tarExtract } from 'tar-stream';
import yauzl from 'yauzl';
import { AppError } from '../core/errors.ts';
import { FileCollector, validateRelativePath, type FileLimits, type FileMap } from './file-map.ts';

export { filesFromJson, validateRelativePath, type FileMap, type FileLimits } from './file-map.ts';

type Link = { path: string; target: string; kind: 'symlink' | 'hardlink' };

/**
 * Unpacks a .tar.gz or .zip into a checked FileMap. Sizes are counted while inflating, so a bomb
 * stops at the limit. Links are allowed only when they point at a file inside the bundle; they are
 * materialised as copies. No wrapper directory is stripped: paths are kept as archived.
 */
export async function extractBundle(data: Buffer, kind: 'tar.gz' | 'zip', limits: FileLimits): Promise<FileMap> {
  const collector = new FileCollector(limits);
  const links: Link[] = [];
  try {
    if (kind === 'tar.gz') await readTarGz(data, collector, links);
    else await readZip(data, collector, links);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('INVALID_BUNDLE', `The ${kind} archive is corrupt: ${err instanceof Error ? err.message : String(err)}`);
  }
  resolveLinks(collector, links);
  return collector.files;
}

function resolveLinks(collector: FileCollector, links: Link[]): void {
  for (const link of links) {
    const path = validateRelativePath(link.path);
    const raw = link.kind === 'symlink' ? posix.join(posix.dirname(path), link.target) : link.target;
    if (link.target.startsWith('/') || raw.startsWith('..') || posix.normalize(raw).startsWith('../')) {
      throw new AppError('INVALID_BUNDLE', `Link "${path}" points outside the bundle`);
    }
    const target = validateRelativePath(posix.normalize(raw));
    const content = collector.files.get(target);
    if (content === undefined) throw new AppError('INVALID_BUNDLE', `Link "${path}" points at "${target}", which is not a file in the bundle`);
    collector.add(path, content);
  }
}

async function readTarGz(data: Buffer, collector: FileCollector, links: Link[]): Promise<void> {
  const gunzip = createGunzip();
  const extract = tarExtract();
  const source = Readable.from([data]);
  source.pipe(gunzip);
  const failed = new Promise<never>((_, reject) => {
    gunzip.on('error', reject);
  });
  gunzip.pipe(extract);
  const entries = (async () => {
    for await (const entry of extract) {
      const { name, type, linkname } = entry.header;
      if (type === 'directory') {
        entry.resume();
        continue;
      }
      if (type === 'symlink' || type === 'link') {
        entry.resume();
        links.push({ path: name, target: linkname ?? '', kind: type === 'symlink' ? 'symlink' : 'hardlink' });
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') {
        gunzip.destroy();
        throw new AppError('INVALID_BUNDLE', `Entry "${validateRelativePath(name)}" is a ${type}, not a file`);
      }
      validateRelativePath(name);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) {
        collector.count((chunk as Buffer).length);
        chunks.push(chunk as Buffer);
      }
      collector.add(name, Buffer.concat(chunks), true);
    }
  })();
  try {
    await Promise.race([entries, failed]);
  } finally {
    gunzip.destroy();
    source.destroy();
  }
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function readZip(data: Buffer, collector: FileCollector, links: Link[]): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(data, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true }, (openErr, zip) => {
      if (openErr || zip === undefined) return reject(openErr ?? new Error('cannot open'));
      const fail = (err: unknown) => {
        zip.close();
        reject(err);
      };
      zip.on('error', fail);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        try {
          const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
          if (entry.fileName.endsWith('/') || mode === S_IFDIR) return zip.readEntry();
          validateRelativePath(entry.fileName);
          if (mode !== 0 && mode !== S_IFREG && mode !== S_IFLNK) throw new AppError('INVALID_BUNDLE', `Entry "${entry.fileName}" is not a regular file`);
          collector.count(0);
        } catch (err) {
          return fail(err);
        }
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || stream === undefined) return fail(streamErr ?? new Error('cannot read entry'));
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => {
            try {
              collector.count(chunk.length);
              chunks.push(chunk);
            } catch (err) {
              stream.destroy();
              fail(err);
            }
          });
          stream.on('error', fail);
          stream.on('end', () => {
            try {
              const content = Buffer.concat(chunks);
              const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
              if (mode === S_IFLNK) links.push({ path: entry.fileName, target: content.toString('utf8'), kind: 'symlink' });
              else collector.add(entry.fileName, content, true);
              zip.readEntry();
            } catch (err) {
              fail(err);
            }
          });
        });
      });
      zip.readEntry();
    });
  });
}
