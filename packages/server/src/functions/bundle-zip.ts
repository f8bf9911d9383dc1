import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { AppError } from '../core/errors.ts';
import { describePath, invalidBundle } from './file-map.ts';
import type { EntrySink } from './bundle-links.ts';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const SPECIAL: Record<number, string> = { 0o010000: 'fifo', 0o020000: 'character device', 0o060000: 'block device', 0o140000: 'socket' };
/** "Version made by" hosts whose external attributes carry a Unix mode: 3 Unix, 19 OS X. */
const UNIX_HOSTS = new Set([3, 19]);
const MAX_LINK_TARGET = 4096;

/**
 * Streams a .zip into the sink, one entry at a time. Names are decoded here (yauzl's own decoding
 * would quietly turn backslashes into slashes), sizes are counted while inflating and checked against
 * the declared size (yauzl's validateEntrySizes) and the CRC, so a lying or overlapping-entry zip bomb
 * stops at the limit. macOS metadata under `__MACOSX/` is skipped without being inflated.
 */
export async function readZip(data: Buffer, sink: EntrySink): Promise<void> {
  const { collector } = sink;
  const zip = await yauzl.fromBufferPromise(data, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, strictFileNames: true, autoClose: false });
  zip.on('error', () => {}); // errors reach us through eachEntry / openReadStream; never crash on a late one
  let last: string | undefined;
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      last = name;
      if (name.startsWith('__MACOSX/')) continue;
      const unix = UNIX_HOSTS.has(entry.versionMadeBy >>> 8);
      const type = unix ? ((entry.externalFileAttributes >>> 16) & S_IFMT) : 0;
      const dosDirectory = !unix && (entry.externalFileAttributes & 0x10) !== 0;
      if (name.endsWith('/') || type === S_IFDIR || dosDirectory) {
        collector.directory(name);
        continue;
      }
      if (type !== 0 && type !== S_IFREG && type !== S_IFLNK) {
        throw invalidBundle(`Entry ${describePath(name)} is a ${SPECIAL[type] ?? 'special file'}; only files, directories and links are allowed`);
      }
      if (entry.isEncrypted()) throw invalidBundle(`Entry ${describePath(name)} is encrypted`);
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
        throw invalidBundle(`Entry ${describePath(name)} uses compression method ${entry.compressionMethod}; only stored and deflated entries are supported`);
      }
      if (type === S_IFLNK) {
        if (entry.uncompressedSize > MAX_LINK_TARGET) throw invalidBundle(`Symlink ${describePath(name)} has a target longer than ${MAX_LINK_TARGET} bytes`);
        let read = 0;
        const target = await readEntry(zip, entry, name, (n) => {
          read += n;
          if (read > MAX_LINK_TARGET) throw invalidBundle(`Symlink ${describePath(name)} has a target longer than ${MAX_LINK_TARGET} bytes`);
        });
        sink.link(name, target.toString('utf8'), 'symlink');
        continue;
      }
      const path = collector.claim(name);
      // The declared size is known before inflating: refuse early when it alone is too much.
      if (entry.uncompressedSize > collector.remainingBytes) collector.count(entry.uncompressedSize, path);
      collector.set(path, await readEntry(zip, entry, name, (n) => collector.count(n, path)));
    }
  } catch (err) {
    if (err instanceof Error && !(err instanceof AppError) && last !== undefined) err.message = `${err.message} (at entry ${describePath(last)})`;
    throw err;
  } finally {
    zip.close();
  }
}

/** Inflates one entry, reporting each chunk's size before keeping it, and checks its CRC. */
async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string, onBytes: (n: number) => void): Promise<Buffer> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) {
      onBytes((chunk as Buffer).length);
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  const content = Buffer.concat(chunks);
  if (crc32(content) !== entry.crc32) throw invalidBundle(`Entry ${describePath(name)} fails its CRC check (the zip is corrupt)`);
  return content;
}
