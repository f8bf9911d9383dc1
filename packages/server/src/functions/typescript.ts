import { build, type Plugin } from 'esbuild';
import { posix } from 'node:path';
import { AppError } from '../core/errors.ts';
import type { FileMap } from './file-map.ts';

const RESOLVE_EXTENSIONS = ['', '.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.json', '/index.ts', '/index.js'];
const LOADERS: Record<string, 'ts' | 'tsx' | 'js' | 'json'> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };

/** esbuild reads the function's files from memory: nothing of the host file system is visible to it. */
function fileMapPlugin(files: FileMap): Plugin {
  return {
    name: 'skyscale-files',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return { path: args.path, namespace: 'fn' };
        if (!args.path.startsWith('.') && !args.path.startsWith('/')) return { path: args.path, external: true };
        const base = posix.normalize(posix.join(posix.dirname(args.importer), args.path));
        for (const ext of RESOLVE_EXTENSIONS) if (files.has(base + ext)) return { path: base + ext, namespace: 'fn' };
        for (const [from, to] of [['.js', '.ts'], ['.mjs', '.mts'], ['.cjs', '.cts']]) {
          if (base.endsWith(from) && files.has(base.slice(0, -from.length) + to)) return { path: base.slice(0, -from.length) + to, namespace: 'fn' };
        }
        return { errors: [{ text: `Cannot resolve "${args.path}" from ${args.importer}` }] };
      });
      b.onLoad({ filter: /.*/, namespace: 'fn' }, (args) => ({
        contents: files.get(args.path),
        loader: LOADERS[posix.extname(args.path)] ?? 'js',
        resolveDir: posix.dirname(args.path),
      }));
    },
  };
}

/**
 * A TypeScript entry is bundled with esbuild at deploy into `<module>.mjs` beside it (the runtime
 * prefers .mjs over .ts), so enums, extensionless imports and the rest of TypeScript work at run time.
 * Bare imports (node: builtins, packages) stay external.
 */
export async function bundleTypeScript(files: FileMap, entry: string): Promise<FileMap> {
  const out = entry.replace(/\.(c|m)?ts$/, '.mjs');
  if (files.has(out)) throw new AppError('VALIDATION_FAILED', `both ${entry} and ${out} exist; keep one entry`);
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [fileMapPlugin(files)],
      outfile: out,
    });
    const bundled = new Map(files);
    bundled.set(out, Buffer.from(result.outputFiles[0].contents));
    return bundled;
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? `${first.location.file.replace(/^fn:/, "")}:${first.location.line}:${first.location.column}: ` : '';
    throw new AppError('VALIDATION_FAILED', `TypeScript build failed: ${where}${first?.text ?? String(err)}`);
  }
}
