import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const SKIP = new Set(['.git', '.DS_Store']);

/** Packs a directory's files (not the directory itself) into a .tar.gz in memory; symlinks are followed. */
export async function packDirectory(dir: string): Promise<Buffer> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      if (SKIP.has(entry.name)) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const stat = await fs.stat(path.join(dir, child));
      if (stat.isDirectory()) await walk(child);
      else if (stat.isFile()) files.push(child);
    }
  };
  await walk('');
  files.sort();
  const tar = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of tar) chunks.push(chunk as Buffer);
  })();
  for (const file of files) {
    const full = path.join(dir, file);
    const content = await fs.readFile(full);
    const mode = (await fs.stat(full)).mode & 0o777;
    await new Promise<void>((resolve, reject) => tar.entry({ name: file, mode, size: content.length }, content, (err) => (err ? reject(err) : resolve())));
  }
  tar.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}
