import { AppError } from '../core/errors.ts';
import { LinkSink } from './bundle-links.ts';
import { readTar } from './bundle-tar.ts';
import { readZip } from './bundle-zip.ts';
import { FileCollector, invalidBundle, type FileLimits, type FileMap } from './file-map.ts';

export {
  filesFromJson,
  unwrapSingleDirectory,
  validateRelativePath,
  type FileLimits,
  type FileMap,
  type JsonFileEntry,
} from './file-map.ts';

export type BundleKind = 'tar.gz' | 'zip';

/** An archive's format, from its first bytes: gzip or plain tar (both read as 'tar.gz'), or zip. */
export function detectBundleFormat(data: Buffer): BundleKind {
  if (data[0] === 0x1f && data[1] === 0x8b) return 'tar.gz';
  if (data[0] === 0x50 && data[1] === 0x4b) return 'zip';
  if (data.subarray(257, 262).toString('latin1') === 'ustar') return 'tar.gz';
  throw invalidBundle('the bundle must be a .tar.gz, .tar or .zip archive');
}

/**
 * Unpacks a code bundle into a checked FileMap. Every problem is an INVALID_BUNDLE AppError naming
 * the entry; nothing else escapes (a corrupt archive is INVALID_BUNDLE too).
 *
 * - `tar.gz` also accepts a plain, uncompressed tar.
 * - Sizes are counted while inflating (and declared sizes checked before), so a compression bomb
 *   stops at `maxBytes` instead of being inflated first. `maxFiles` counts files and links.
 * - Paths go through validateRelativePath; duplicates (after normalisation, e.g. `a.js` and
 *   `./a.js`) and a path that is both a file and a directory are refused.
 * - Directories are implied by the files; empty ones are dropped. Devices, fifos, sockets and
 *   encrypted zip entries are refused. File modes are not kept.
 * - Symlinks and hardlinks must point at a file inside the bundle (absolute targets and targets
 *   above the root are refused); they are stored as copies of that file. Links to directories,
 *   dangling links and loops are refused.
 * - Paths are kept as archived: a single top-level wrapper directory is NOT stripped (see
 *   unwrapSingleDirectory). Zip entries under `__MACOSX/` are skipped.
 */
export async function extractBundle(data: Buffer, kind: BundleKind, limits: FileLimits): Promise<FileMap> {
  if (!Buffer.isBuffer(data) || data.length === 0) throw invalidBundle('The bundle is empty');
  if (kind !== 'tar.gz' && kind !== 'zip') throw invalidBundle('The bundle must be a .tar.gz or a .zip archive');
  const collector = new FileCollector(limits);
  const sink = new LinkSink(collector);
  try {
    await (kind === 'zip' ? readZip(data, sink) : readTar(data, sink));
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('INVALID_BUNDLE', `The ${kind} archive is corrupt: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  sink.materialise();
  return collector.files;
}
