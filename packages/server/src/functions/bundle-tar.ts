import { createGunzip, type Gunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { AppError } from '../core/errors.ts';
import { describePath, invalidBundle } from './file-map.ts';
import type { EntrySink } from './bundle-links.ts';

export const isGzip = (data: Buffer): boolean => data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
/** A plain (uncompressed) ustar/GNU/pax tar: the magic sits at offset 257 of the first header. */
export const isPlainTar = (data: Buffer): boolean => data.length >= 512 && data.toString('latin1', 257, 262) === 'ustar';

/**
 * How much raw tar data (headers, padding, pax records, trailer) may flow besides the files'
 * content. Every byte out of gunzip is counted against `maxBytes + this`, so neither data after the
 * end-of-archive marker, nor piles of directory or link headers, nor huge pax headers can make us
 * inflate more than about the limit.
 */
const tarOverhead = (maxFiles: number): number => (2 * maxFiles + 64) * 2048;

/**
 * Streams a .tar.gz (or a plain .tar) into the sink. The gunzip output is pushed into the tar parser
 * with back-pressure and a running byte count; every file's content is counted as it arrives.
 */
export async function readTar(data: Buffer, sink: EntrySink): Promise<void> {
  const { collector } = sink;
  const gzipped = isGzip(data);
  if (!gzipped && !isPlainTar(data)) throw invalidBundle('The bundle is neither a gzip-compressed nor a plain tar archive');

  const extract = tarExtract();
  let gunzip: Gunzip | undefined;
  let failed = false;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    gunzip?.destroy();
    extract.destroy(err);
  };
  const rawLimit = collector.remainingBytes + tarOverhead(collector.maxFiles);
  if (gzipped) {
    const inflater = createGunzip();
    gunzip = inflater;
    let raw = 0;
    inflater.on('data', (chunk: Buffer) => {
      if (failed) return;
      raw += chunk.length;
      if (raw > rawLimit) return fail(invalidBundle(`The archive inflates to more than ${rawLimit} bytes of tar data`));
      if (!extract.write(chunk)) inflater.pause();
    });
    extract.on('drain', () => inflater.resume());
    inflater.on('end', () => extract.end(undefined));
    inflater.on('error', (err) => fail(err));
    inflater.end(data);
  } else {
    extract.end(data);
  }

  let last: string | undefined;
  try {
    for await (const entry of extract) {
      const { name, type, size, linkname } = entry.header;
      last = name;
      switch (type) {
        case 'directory':
          collector.directory(name);
          entry.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          const path = collector.claim(name);
          // The header says how big it is: refuse before inflating a byte of it.
          if (size > collector.remainingBytes) collector.count(size, path);
          const chunks: Buffer[] = [];
          for await (const chunk of entry) {
            collector.count((chunk as Buffer).length, path);
            chunks.push(chunk as Buffer);
          }
          collector.set(path, Buffer.concat(chunks));
          break;
        }
        case 'symlink':
        case 'link':
          sink.link(name, linkname ?? '', type === 'symlink' ? 'symlink' : 'hardlink');
          entry.resume();
          break;
        default:
          throw invalidBundle(`Entry ${describePath(name)} is a ${type ?? 'special file of an unknown type'}; only files, directories and links are allowed`);
      }
    }
  } catch (err) {
    // A parse or inflate error: say where it happened; extractBundle turns it into INVALID_BUNDLE.
    if (err instanceof Error && !(err instanceof AppError) && last !== undefined) err.message = `${err.message} (after entry ${describePath(last)})`;
    throw err;
  } finally {
    failed = true;
    gunzip?.destroy();
    extract.destroy();
  }
}
